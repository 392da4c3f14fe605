"""Network operations on artifacts and run files, as plain functions.

Each takes a `Platform` and JSON-able arguments and returns JSON-able
values, so that `courier` can run it in a helper process for a training
process (which opens no sockets) or in this process for everyone else.
"""

from __future__ import annotations

import logging
import os
import shutil
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ApiError, CommError, UsageError
from ..files import local_path, normalize_name
from .cache import BlobCache
from .manifest import Entry, FileManifest, describe_file, load_manifest
from .transfer import BlobClient

logger = logging.getLogger(__name__)

REF_TIMEOUT_S = 60.0


@dataclass
class Platform:
    """Where the platform is, and the key to use."""

    base_url: str
    api_key: str | None
    timeout: float = 60.0
    cache_dir: str = ""
    _query: BlobClient | None = field(default=None, repr=False)
    _blobs: BlobClient | None = field(default=None, repr=False)

    def query(self, method: str, path: str, body: Any = None) -> Any:
        if self._query is None:
            self._query = BlobClient(self.base_url, self.api_key, self.timeout)
        return self._query.call(method, path, body)

    def blobs(self) -> BlobClient:
        if self._blobs is None:
            found = self.query("GET", "/api/v1/discovery")
            if not found.get("artifacts"):
                raise CommError(f"{self.base_url} names no artifacts service")
            self._blobs = BlobClient(found["artifacts"], self.api_key, self.timeout)
        return self._blobs

    def to_dict(self) -> dict[str, Any]:
        return {"base_url": self.base_url, "api_key": self.api_key,
                "timeout": self.timeout, "cache_dir": self.cache_dir}


def _q(*parts: str) -> str:
    return "/".join(urllib.parse.quote(p, safe="") for p in parts)


def _entity(platform: Platform, entity: str) -> str:
    """`entity`, or the key's default entity when it is empty."""
    return entity or platform.query("GET", "/api/v1/viewer")["default_entity"]


# ---- artifacts -----------------------------------------------------------------


def resolve(
    platform: Platform, entity: str, project: str, name: str, ref: str
) -> dict[str, Any]:
    """A version (``vN``, alias, ``latest``) with its entries."""
    entity = _entity(platform, entity)
    path = f"/api/v1/artifacts/{_q(entity, project, name)}/versions/{_q(ref)}"
    version = platform.blobs().call("GET", path)
    version["entries"] = _entries(platform, entity, version["manifest"])
    return version


def list_versions(
    platform: Platform, entity: str, project: str, name: str
) -> dict[str, Any]:
    path = f"/api/v1/artifacts/{_q(entity, project, name)}/versions"
    return platform.blobs().call("GET", path)


def list_names(
    platform: Platform, entity: str, project: str, type: str | None
) -> list[dict[str, Any]]:
    query = "?" + urllib.parse.urlencode({"type": type}) if type else ""
    path = f"/api/v1/artifacts/{_q(entity, project)}{query}"
    return platform.blobs().call("GET", path)["artifacts"]


def move_aliases(
    platform: Platform, entity: str, project: str, name: str, version: str,
    add: list[str], remove: list[str],
) -> dict[str, Any]:
    path = f"/api/v1/artifacts/{_q(entity, project, name)}/versions/{_q(version)}"
    return platform.blobs().call("POST", path + "/aliases",
                                 {"add": add, "remove": remove})


def delete_version(
    platform: Platform, entity: str, project: str, name: str, version: str,
    delete_aliases: bool,
) -> dict[str, Any]:
    flag = "true" if delete_aliases else "false"
    path = (f"/api/v1/artifacts/{_q(entity, project, name)}/versions/{_q(version)}"
            f"?delete_aliases={flag}")
    return platform.blobs().call("DELETE", path)


def lineage(
    platform: Platform, entity: str, project: str, name: str, version: str
) -> dict[str, list[str]]:
    path = f"/api/v1/lineage/{_q(entity, project, name, version)}"
    return platform.query("GET", path)


def download_entries(
    platform: Platform, entity: str, entries: list[dict[str, Any]], root: str,
    replace: bool = True,
) -> list[str]:
    """Put entries under `root` (through the local cache); returns the paths."""
    cache = BlobCache(platform.cache_dir or None)
    written = []
    for body in entries:
        entry = Entry.from_dict(body)
        target = local_path(root, entry.path)
        if target.exists() and not replace:
            written.append(str(target))
            continue
        if entry.ref:
            if not _fetch_reference(entry, target):
                continue
        else:
            source = cache.ensure(entry.file, lambda m, d: platform.blobs()
                                  .download_file(entity, m, d))
            _copy(source, target)
        written.append(str(target))
    return written


def _entries(
    platform: Platform, entity: str, manifest: dict[str, Any]
) -> list[dict[str, Any]]:
    raw = platform.blobs().read_bytes(entity, FileManifest.from_dict(manifest))
    return [entry.to_dict() for entry in load_manifest(raw).values()]


def _fetch_reference(entry: Entry, target: Path) -> bool:
    """Copy a file:// or fetch an http(s):// reference; False for others."""
    scheme = urllib.parse.urlsplit(entry.ref).scheme
    target.parent.mkdir(parents=True, exist_ok=True)
    if scheme == "file":
        source = urllib.parse.unquote(urllib.parse.urlsplit(entry.ref).path)
        _copy(Path(source), target)
    elif scheme in ("http", "https"):
        tmp = target.with_name(f".{target.name}.part")
        with urllib.request.urlopen(entry.ref, timeout=REF_TIMEOUT_S) as response:
            with open(tmp, "wb") as out:
                shutil.copyfileobj(response, out, 1 << 20)
        os.replace(tmp, target)
    else:
        logger.warning("entry %s refers to %s: %s:// references are recorded, "
                       "not downloaded", entry.path, entry.ref, scheme)
        return False
    return True


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    shutil.copyfile(source, tmp)
    os.replace(tmp, target)


# ---- run files -----------------------------------------------------------------


def run_files(
    platform: Platform, entity: str, project: str, run_id: str
) -> list[dict[str, Any]]:
    entity = _entity(platform, entity)
    return platform.query("GET", f"/api/v1/runs/{_q(entity, project, run_id)}/files")[
        "files"]


def run_artifacts(
    platform: Platform, entity: str, project: str, run_id: str, used: bool
) -> list[dict[str, Any]]:
    flag = "true" if used else "false"
    path = f"/api/v1/runs/{_q(entity, project, run_id)}/artifacts?used={flag}"
    return platform.query("GET", path)["artifacts"]


def download_run_file(
    platform: Platform, entity: str, project: str, run_id: str, name: str,
    root: str, replace: bool,
) -> str:
    """Fetch the run's file `name` to ``root/name``; returns the path.

    Raises:
        ApiError: the run has no such file (404).
        UsageError: the target exists and `replace` is False.
    """
    name = normalize_name(name)
    entity = _entity(platform, entity)
    target = local_path(root, name)
    if target.exists() and not replace:
        raise UsageError(f"{target} exists; pass replace=True to overwrite it")
    for found in run_files(platform, entity, project, run_id):
        if found["path"] == name:
            entry = Entry(name, found["sha256"], found["size"],
                          tuple(found["manifest"].get("chunks") or ()))
            download_entries(platform, entity, [entry.to_dict()], root, True)
            return str(target)
    raise ApiError(404, f"run {entity}/{project}/{run_id} has no file {name!r}")


def upload_run_file(
    platform: Platform, entity: str, project: str, run_id: str, path: str,
    name: str,
) -> dict[str, Any]:
    """Store a local file as the run's file `name` (after the run, too)."""
    name = normalize_name(name)
    manifest = describe_file(path)
    platform.blobs().upload_files(entity, [(path, manifest)])
    body = {"path": name, **manifest.to_dict()}
    return platform.query("POST", f"/api/v1/runs/{_q(entity, project, run_id)}/files",
                          body)


def delete_run_file(
    platform: Platform, entity: str, project: str, run_id: str, name: str
) -> dict[str, Any]:
    path = f"/api/v1/runs/{_q(entity, project, run_id)}/files/{_q(name)}"
    return platform.query("DELETE", path)


OPERATIONS: dict[str, Callable[..., Any]] = {
    fn.__name__: fn for fn in (
        resolve, list_versions, list_names, move_aliases, delete_version, lineage,
        download_entries, run_files, run_artifacts, download_run_file,
        upload_run_file, delete_run_file,
    )
}
