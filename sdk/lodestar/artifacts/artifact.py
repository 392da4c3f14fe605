"""`Artifact`: a versioned set of files, built locally or read back.

An artifact is built (``add_file``, ``add_dir``, ``add``, ``new_file``,
``add_reference``), then logged by a run, which makes version ``vN`` of its
name; or it is read back (``use_artifact``, ``Api().artifact``), then its
entries can be listed, fetched, downloaded and checked, and its aliases
changed. Every network step goes through `courier.perform`, so a training
process never opens a socket itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
import time
import urllib.parse
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from ..errors import CommError, UsageError, VerifyFailed
from ..files import local_path, normalize_name
from . import objects
from .courier import perform
from .manifest import Entry
from .operations import Platform
from .staging import hash_file, read_logged

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
# the artifacts service's rules: checked here too, so a bad alias fails at the
# call that names it rather than in the agent, after the script moved on
_ALIAS = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
_VERSION = re.compile(r"^v\d+$")
LATEST = "latest"
WAIT_POLL_S = 0.1
REF_SCHEMES = ("s3", "gs", "file", "http", "https")


def check_artifact_name(name: object) -> str:
    """An artifact name, or `UsageError`."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise UsageError(f"artifact name {name!r} is not allowed: use 1-128 letters, "
                         "digits, '_', '.' or '-', starting with a letter or digit")
    return name


def check_aliases(aliases: object) -> list[str]:
    """The aliases to give a version, once each and without ``latest`` (the
    platform moves that one itself), or `UsageError`."""
    if aliases is None:
        return []
    if isinstance(aliases, str) or not isinstance(aliases, (list, tuple, set)):
        raise UsageError(f"aliases={aliases!r}: pass a list of strings, such as "
                         "['best']")
    return [check_alias(a) for a in dict.fromkeys(aliases) if a != LATEST]


def check_alias(alias: object) -> str:
    """A user alias: not ``latest`` and not shaped like a version ``vN``."""
    if not isinstance(alias, str) or not _ALIAS.match(alias):
        raise UsageError(f"alias {alias!r} is not allowed: use 1-128 letters, "
                         "digits, '_', '.' or '-'")
    if alias == LATEST or _VERSION.match(alias):
        raise UsageError(f"alias {alias!r} is managed by the platform; pick "
                         "another name")
    return alias


class ArtifactEntry:
    """One entry of an artifact: its name, content hash, size or reference."""

    def __init__(self, artifact: Artifact, entry: Entry) -> None:
        self._artifact = artifact
        self._entry = entry

    @property
    def path(self) -> str:
        return self._entry.path

    @property
    def digest(self) -> str:
        return self._entry.sha256 or self._entry.digest

    @property
    def size(self) -> int:
        return self._entry.size

    @property
    def ref(self) -> str | None:
        return self._entry.ref or None

    def download(self, root: str | None = None) -> str:
        """Fetch this entry under `root`; returns its local path."""
        return self._artifact._download([self._entry], root)[0]

    def __repr__(self) -> str:
        return f"<ArtifactEntry {self.path} {self.size} bytes>"


class Artifact:
    """A versioned, content-addressed set of files.

    Args:
        name: 1-128 letters, digits, ``_ . -``.
        type: what it holds (``dataset``, ``model``, ...).
        description: free text.
        metadata: a JSON-able dict stored with the version.
    """

    def __init__(
        self, name: str, type: str, description: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self.name = check_artifact_name(name)
        if not isinstance(type, str) or not type:
            raise UsageError(f"artifact type {type!r} must be a non-empty string")
        self.type = type
        self.description = description or ""
        self.metadata = dict(metadata or {})
        self.aliases: list[str] = []
        self.version: str | None = None
        self.digest: str | None = None
        self.entity = ""
        self.project = ""
        self.producer_run = ""
        self.created_at: float | None = None
        self._entries: dict[str, Entry] = {}
        self._staging: str | None = None
        self._staging_cleanup: weakref.finalize | None = None
        self._frozen = False
        self._pending: tuple[Path, str] | None = None
        self._offline = False
        self._not_logged = ""  # why a run declined to stage it
        self._platform: Platform | None = None
        self._saved_aliases: list[str] = []

    # ---- building ----------------------------------------------------------

    def add_file(
        self, local_path: str | os.PathLike[str], name: str | None = None,
        policy: str = "mutable",
    ) -> ArtifactEntry:
        """Add a file. ``mutable`` (the default) copies it when the artifact is
        logged; ``immutable`` promises it will not change and skips the copy.

        Raises:
            UsageError: the file does not exist, or the name is taken.
            BadPath: the name could escape a directory.
        """
        self._check_draft()
        path = Path(local_path)
        if not path.is_file():
            raise UsageError(f"{path} is not a file")
        if policy not in ("mutable", "immutable"):
            raise UsageError(f"policy={policy!r}; use 'mutable' or 'immutable'")
        extra = {"policy": policy} if policy == "immutable" else {}
        entry = Entry(normalize_name(name or path.name),
                      local_path=str(path.resolve()), extra=extra)
        return self._put(entry)

    def add_dir(
        self, local_path: str | os.PathLike[str], name: str | None = None,
        policy: str = "mutable",
    ) -> None:
        """Add every file under a directory, named by its relative path."""
        self._check_draft()
        root = Path(local_path)
        if not root.is_dir():
            raise UsageError(f"{root} is not a directory")
        prefix = normalize_name(name) + "/" if name else ""
        for folder, _dirs, names in os.walk(root):
            for each in sorted(names):
                full = Path(folder) / each
                self.add_file(full, prefix + full.relative_to(root).as_posix(), policy)

    @contextlib.contextmanager
    def new_file(
        self, name: str, mode: str = "x", encoding: str | None = None
    ) -> Iterator[IO[Any]]:
        """Write a new entry: ``with artifact.new_file("a.txt") as f: ...``."""
        self._check_draft()
        name = normalize_name(name)
        if name in self._entries:
            raise UsageError(f"the artifact already has an entry {name!r}")
        path = local_path(self._staging_dir(), name)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, mode, encoding=encoding) as handle:
            yield handle
        self.add_file(path, name)

    def add(self, obj: Any, name: str) -> ArtifactEntry:
        """Add a media object or a `Table`; ``get(name)`` returns it again."""
        self._check_draft()
        entry_name, content = objects.encode(obj, normalize_name(name),
                                             self._put_bytes)
        self._put_bytes(entry_name, content)
        return ArtifactEntry(self, self._entries[entry_name])

    def add_reference(
        self, uri: str, name: str | None = None, checksum: bool = True
    ) -> ArtifactEntry:
        """Record a ``s3://``, ``gs://``, ``file://`` or ``http(s)://`` URI
        without copying it. A ``file://`` reference with `checksum` is hashed
        now; other references are identified by their URI.
        """
        self._check_draft()
        parts = urllib.parse.urlsplit(uri)
        if parts.scheme not in REF_SCHEMES:
            raise UsageError(f"reference {uri!r}: use one of "
                             f"{', '.join(s + '://' for s in REF_SCHEMES)}")
        default = parts.path.rstrip("/").rsplit("/", 1)[-1] or parts.netloc
        entry = Entry(normalize_name(name or default), ref=uri, digest=uri)
        if parts.scheme == "file" and checksum:
            entry.digest, entry.size = hash_file(urllib.parse.unquote(parts.path))
        return self._put(entry)

    def _put(self, entry: Entry) -> ArtifactEntry:
        if entry.path in self._entries:
            raise UsageError(f"the artifact already has an entry {entry.path!r}")
        self._entries[entry.path] = entry
        return ArtifactEntry(self, entry)

    def _put_bytes(self, name: str, data: bytes) -> None:
        if name in self._entries:
            return
        path = local_path(self._staging_dir(), name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self._put(Entry(name, local_path=str(path)))

    def _staging_dir(self) -> str:
        """A private folder for ``new_file`` and ``add`` content.

        It goes once the run has copied the content (`_drop_staging`), or with
        the artifact (or the interpreter) when it is never logged.
        """
        if self._staging is None:
            self._staging = tempfile.mkdtemp(prefix="lodestar-artifact-")
            self._staging_cleanup = weakref.finalize(
                self, shutil.rmtree, self._staging, ignore_errors=True)
        return self._staging

    def _drop_staging(self) -> None:
        if self._staging_cleanup is not None:
            self._staging_cleanup()
        self._staging = self._staging_cleanup = None

    def _check_draft(self) -> None:
        if self._frozen:
            raise UsageError(f"artifact {self.name!r} was logged or read back and "
                             "cannot change; make a new Artifact")

    # ---- after logging -----------------------------------------------------

    @property
    def qualified_name(self) -> str:
        return f"{self.entity}/{self.project}/{self.name}"

    def wait(self, timeout: float | None = 60.0) -> Artifact:
        """Wait until the agent has logged this artifact (its version is known).

        Raises:
            CommError: not logged within `timeout` seconds, refused (the
                message says why), logged by a finished run, or staged in an
                offline run that has not been synced.
        """
        if self.version:
            return self
        if self._pending is None:
            if self._not_logged:
                raise CommError(f"artifact {self.name!r} was not logged: "
                                f"{self._not_logged}")
            return self
        run_dir, client_id = self._pending
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            outcome = read_logged(run_dir, client_id)
            if outcome is not None:
                return self._take_outcome(outcome)
            if self._offline:
                raise CommError(f"artifact {self.name!r} is staged in the offline "
                                f"run {run_dir}; `lodestar sync {run_dir}` logs it")
            if deadline is not None and time.monotonic() >= deadline:
                raise CommError(f"artifact {self.name!r} has no version after "
                                f"{timeout} s; the agent uploads it in the "
                                "background")
            time.sleep(WAIT_POLL_S)

    def _take_outcome(self, outcome: dict[str, Any]) -> Artifact:
        if "error" in outcome:
            raise CommError(f"artifact {self.name!r} was not logged: "
                            f"{outcome['error']}")
        self._load_version(outcome)
        return self

    # ---- reading back ------------------------------------------------------

    @classmethod
    def _from_version(cls, version: dict[str, Any], platform: Platform) -> Artifact:
        artifact = cls(version["name"], version["type"], version.get("description"),
                       version.get("metadata"))
        artifact._platform = platform
        artifact._load_version(version)
        for body in version.get("entries", []):
            entry = Entry.from_dict(body)
            artifact._entries[entry.path] = entry
        artifact._frozen = True
        return artifact

    def _load_version(self, version: dict[str, Any]) -> None:
        self.version = version["version"]
        self.digest = version["digest"]
        self.entity = version["entity"]
        self.project = version["project"]
        self.aliases = [a for a in version.get("aliases", []) if a != "latest"]
        self._saved_aliases = list(self.aliases)
        self.producer_run = version.get("producer_run", "")
        self.created_at = version.get("created_at")
        self.metadata = version.get("metadata", self.metadata)

    def files(self) -> list[ArtifactEntry]:
        """Every entry, sorted by name."""
        return [ArtifactEntry(self, self._entries[k]) for k in sorted(self._entries)]

    @property
    def manifest(self) -> dict[str, dict[str, Any]]:
        return {k: e.to_dict() for k, e in sorted(self._entries.items())}

    def get_entry(self, name: str) -> ArtifactEntry:
        """The entry called `name`.

        Raises:
            KeyError: there is none.
        """
        entry = self._entries.get(normalize_name(name))
        if entry is None:
            raise KeyError(f"artifact {self.name!r} has no entry {name!r}")
        return ArtifactEntry(self, entry)

    def get(self, name: str) -> Any:
        """The media object or table added as `name` (None if there is none)."""
        key = normalize_name(name)
        found = [p for p in self._entries if p.startswith(key + ".")
                 and p.endswith(".json") and p.count(".") == key.count(".") + 2]
        if not found:
            return None
        root = tempfile.mkdtemp(prefix="lodestar-get-")
        try:
            value = _read_json(self._download([self._entries[found[0]]], root)[0])
            return objects.decode(value, lambda p: self._read_entry(p, root))
        finally:
            shutil.rmtree(root, ignore_errors=True)

    def _read_entry(self, name: str, root: str) -> bytes:
        entry = self._entries[normalize_name(name)]
        return Path(self._download([entry], root)[0]).read_bytes()

    def download(self, root: str | None = None) -> str:
        """Fetch every entry into `root` (default ``./artifacts/<name>:<vN>``)
        through the local cache; returns `root`."""
        target = root or self._default_root()
        self._download(list(self._entries.values()), target)
        return target

    def verify(self, root: str | None = None) -> None:
        """Check that `root` holds exactly this artifact's files and content.

        Raises:
            VerifyFailed: a file is missing, extra, or differs.
        """
        base = Path(root or self._default_root())
        expected = {e.path: e for e in self._entries.values() if not e.ref}
        present = {p.relative_to(base).as_posix() for p in base.rglob("*")
                   if p.is_file()}
        extra = sorted(present - set(self._entries))
        if extra:
            raise VerifyFailed(str(base), f"unexpected file {extra[0]!r}")
        for name, entry in sorted(expected.items()):
            if name not in present:
                raise VerifyFailed(str(base), f"{name!r} is missing")
            if hash_file(base / name)[0] != entry.sha256:
                raise VerifyFailed(str(base), f"{name!r} does not match its digest")

    def _default_root(self) -> str:
        return os.path.join("artifacts", f"{self.name}:{self.version or 'draft'}")

    def _download(self, entries: list[Entry], root: str | None) -> list[str]:
        target = root or self._default_root()
        if self.version is None:
            return _copy_local(entries, target)
        bodies = [e.to_dict() for e in entries]
        return perform(self._require_platform(), "download_entries",
                       entity=self.entity, entries=bodies, root=str(target))

    # ---- changes -----------------------------------------------------------

    def save(self) -> Artifact:
        """Store the changes made to ``artifact.aliases``, atomically."""
        if self.version is None:
            raise UsageError("save() changes a logged version; log the artifact "
                             "with run.log_artifact first")
        add = [a for a in check_aliases(self.aliases) if a not in self._saved_aliases]
        remove = [a for a in self._saved_aliases if a not in self.aliases]
        if add or remove:
            version = perform(self._require_platform(), "move_aliases",
                              entity=self.entity, project=self.project,
                              name=self.name, version=self.version, add=add,
                              remove=remove)
            self._load_version(version)
        return self

    def delete(self, delete_aliases: bool = False) -> None:
        """Delete this version; content that other versions use is kept."""
        perform(self._require_platform(), "delete_version", entity=self.entity,
                project=self.project, name=self.name, version=str(self.version),
                delete_aliases=delete_aliases)

    def logged_by(self) -> str | None:
        """The path (``entity/project/run_id``) of the run that logged it."""
        return self.producer_run or None

    def used_by(self) -> list[str]:
        """The paths of the runs that used this version."""
        found = perform(self._require_platform(), "lineage", entity=self.entity,
                        project=self.project, name=self.name,
                        version=str(self.version))
        return list(dict.fromkeys(found["used_by"]))

    def _require_platform(self) -> Platform:
        if self._platform is None:
            from ..settings import load_settings

            settings = load_settings()
            self._platform = Platform(settings.base_url, settings.api_key)
        return self._platform

    def __repr__(self) -> str:
        return f"<Artifact {self.name}:{self.version or 'draft'} ({self.type})>"


def _copy_local(entries: list[Entry], root: str) -> list[str]:
    written = []
    for entry in entries:
        if not entry.local_path:
            raise UsageError(f"entry {entry.path!r} has no local content yet")
        target = local_path(root, entry.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(entry.local_path, target)
        written.append(str(target))
    return written


def _read_json(path: str) -> Any:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)
