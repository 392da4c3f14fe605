"""What `lodestar.Api` offers for artifacts and run files.

``Api().artifact("entity/project/name:alias")``, ``Api().artifacts(type,
name)``, ``Api().artifact_versions(type, name)``, and on a run read back:
``files()``, ``file(name)``, ``upload_file(path, root)``,
``logged_artifacts()``, ``used_artifacts()``.
"""

from __future__ import annotations

import os
from typing import Any

from ..errors import ApiError, UsageError
from ..files import normalize_name
from .artifact import Artifact
from .courier import perform
from .operations import Platform
from .usage import parse_spec


class RunFile:
    """One stored file of a run."""

    def __init__(self, platform: Platform, run: tuple[str, str, str],
                 body: dict[str, Any]) -> None:
        self._platform = platform
        self._run = run
        self.name: str = body["path"]
        self.size: int = int(body["size"])
        self.sha256: str = body["sha256"]
        self.updated_at: float | None = body.get("updated_at")

    def download(self, root: str = ".", replace: bool = False) -> str:
        """Fetch the file to ``root/name``; returns the path.

        Raises:
            UsageError: the target exists and `replace` is False.
        """
        entity, project, run_id = self._run
        return perform(self._platform, "download_run_file", entity=entity,
                       project=project, run_id=run_id, name=self.name, root=root,
                       replace=replace)

    def delete(self) -> None:
        """Delete the file from the run (an event, like any other change)."""
        entity, project, run_id = self._run
        perform(self._platform, "delete_run_file", entity=entity, project=project,
                run_id=run_id, name=self.name)

    def __repr__(self) -> str:
        return f"<RunFile {self.name} {self.size} bytes>"


def platform_of_transport(transport: Any) -> Platform:
    return Platform(transport.base_url, transport._api_key)


def artifact(api: Any, name: str, type: str | None = None) -> Artifact:
    """One version: ``entity/project/name:ref`` (``project/name:ref`` uses the
    default entity)."""
    entity, project, short, ref = parse_spec(name, "", api.settings.project or "")
    platform = platform_of_transport(api._transport)
    version = perform(platform, "resolve", entity=entity or api.default_entity,
                      project=project, name=short, ref=ref)
    found = Artifact._from_version(version, platform)
    if type is not None and found.type != type:
        raise UsageError(f"artifact {name!r} is of type {found.type!r}, not {type!r}")
    return found


def artifact_versions(api: Any, type_name: str, name: str) -> list[Artifact]:
    """Every version of ``[entity/]project/name`` of type `type_name`."""
    entity, project, short, _ref = parse_spec(name, "", api.settings.project or "")
    platform = platform_of_transport(api._transport)
    entity = entity or api.default_entity
    listed = perform(platform, "list_versions", entity=entity, project=project,
                     name=short)
    if type_name and listed["type"] != type_name:
        return []
    return [artifact(api, f"{entity}/{project}/{short}:{v['version']}")
            for v in listed["versions"]]


def run_files(run: Any) -> list[RunFile]:
    platform = platform_of_transport(run._transport)
    found = perform(platform, "run_files", entity=run.entity, project=run.project,
                    run_id=run.id)
    return [RunFile(platform, (run.entity, run.project, run.id), f) for f in found]


def run_file(run: Any, name: str) -> RunFile:
    """The file `name` of `run`.

    Raises:
        ApiError: the run has no such file (404).
    """
    wanted = normalize_name(name)
    for each in run_files(run):
        if each.name == wanted:
            return each
    raise ApiError(404, f"run {run.entity}/{run.project}/{run.id} has no file "
                   f"{wanted!r}")


def upload_file(run: Any, path: str, root: str = ".") -> RunFile:
    """Store a local file as a file of `run`, named relative to `root`."""
    name = os.path.relpath(os.path.abspath(path), os.path.abspath(root))
    name = normalize_name(name.replace(os.sep, "/"))
    platform = platform_of_transport(run._transport)
    perform(platform, "upload_run_file", entity=run.entity, project=run.project,
            run_id=run.id, path=os.path.abspath(path), name=name)
    return run_file(run, name)


def run_artifacts(run: Any, used: bool) -> list[Artifact]:
    platform = platform_of_transport(run._transport)
    found = perform(platform, "run_artifacts", entity=run.entity,
                    project=run.project, run_id=run.id, used=used)
    return [
        Artifact._from_version(
            perform(platform, "resolve", entity=a["entity"], project=a["project"],
                    name=a["name"], ref=a["version"]), platform)
        for a in found
    ]
