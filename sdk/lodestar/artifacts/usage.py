"""``run.log_artifact`` and ``run.use_artifact``.

Logging stages the content in the run directory and queues an
`ArtifactEvent`; the agent uploads and creates the version (`staging`).
Using resolves ``name:alias`` through `courier.perform` and queues an
`ArtifactEvent` with ``used=True``, which is the run's lineage record.
"""

from __future__ import annotations

import os
import uuid
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._proto import events_pb2
from ..errors import LodestarWarning, UsageError
from .artifact import Artifact, check_aliases, check_artifact_name
from .courier import perform
from .manifest import Entry, artifact_digest
from .staging import copy_hashed, hash_file, pending_entry, write_pending

if TYPE_CHECKING:
    from .._run import Run


def log_artifact(
    run: Run, artifact: Artifact | str | os.PathLike[str],
    name: str | None = None, type: str | None = None,
    aliases: list[str] | None = None,
) -> Artifact:
    """Stage `artifact` (or a file or directory path) as a new version.

    Raises:
        UsageError: a bad name, alias or path, or an artifact read back.
    """
    wanted = check_aliases(aliases)
    if not isinstance(artifact, Artifact):
        artifact = _from_path(artifact, name, type)
    if artifact.version is not None or artifact._pending is not None:
        raise UsageError(f"artifact {artifact.name!r} is already logged")
    run_dir = Path(run.run_dir) if run.run_dir else None
    if run_dir is None or run._inactive:
        return _not_staged(run, artifact)
    entries = [_stage_entry(entry, run_dir) for entry in artifact._entries.values()]
    artifact._drop_staging()  # its content now lives in the run directory
    artifact.digest = artifact_digest(Entry.from_dict(e) for e in entries)
    client_id = uuid.uuid4().hex
    document = {"client_id": client_id, "name": artifact.name, "type": artifact.type,
                "description": artifact.description, "metadata": artifact.metadata,
                "entries": entries}
    event = events_pb2.ArtifactEvent(
        name=artifact.name, type=artifact.type, digest=artifact.digest,
        aliases=wanted, manifest_json=write_pending(run_dir, client_id, document),
        producer_run=run.path,
    )
    run._record_event("artifact", event)
    artifact._frozen = True
    artifact._pending = (run_dir, client_id)
    artifact._offline = run.offline
    artifact.aliases = wanted
    artifact.entity, artifact.project = run.entity, run.project
    artifact._platform = _platform(run)
    return artifact


def _not_staged(run: Run, artifact: Artifact) -> Artifact:
    """A disabled run logs nothing, quietly; a finished or forked one says so."""
    artifact._frozen = True
    artifact._drop_staging()
    if run.disabled:
        return artifact
    if run._inactive_reason == "fork":
        reason = f"this process was forked from the one running run {run.id}"
    else:
        reason = f"run {run.id} had already finished; log it before run.finish()"
    artifact._not_logged = reason
    warnings.warn(f"artifact {artifact.name!r} was not logged: {reason}",
                  LodestarWarning, stacklevel=4)
    return artifact


def use_artifact(
    run: Run | None, spec: Artifact | str, type: str | None = None,
    default_project: str = "",
) -> Artifact:
    """Resolve `spec` (``[entity/][project/]name[:alias|:vN]``) and, with a
    run, record that the run used it.

    Raises:
        UsageError: a bad spec, or a type other than `type`.
        ApiError: no such artifact or version.
    """
    if isinstance(spec, Artifact):
        artifact = spec.wait() if spec._pending is not None else spec
    else:
        entity, project, name, ref = parse_spec(
            spec, run.entity if run else "", default_project or (
                run.project if run else ""))
        platform = _platform(run)
        version = perform(platform, "resolve", entity=entity, project=project,
                          name=name, ref=ref)
        artifact = Artifact._from_version(version, platform)
    if type is not None and artifact.type != type:
        raise UsageError(f"artifact {artifact.name!r} is of type {artifact.type!r}, "
                         f"not {type!r}")
    if run is not None and not run._inactive:
        event = events_pb2.ArtifactEvent(
            name=artifact.qualified_name, type=artifact.type,
            version=str(artifact.version), digest=str(artifact.digest), used=True,
        )
        run._record_event("artifact", event)
    return artifact


def parse_spec(spec: str, entity: str, project: str) -> tuple[str, str, str, str]:
    """``(entity, project, name, ref)`` of ``[entity/][project/]name[:ref]``."""
    if not isinstance(spec, str) or not spec:
        raise UsageError(f"artifact {spec!r}: use 'name:alias' or "
                         "'entity/project/name:alias'")
    path, _, ref = spec.partition(":")
    parts = path.split("/")
    if len(parts) == 3:
        entity, project = parts[0], parts[1]
    elif len(parts) == 2:
        project = parts[0]
    elif len(parts) != 1:
        raise UsageError(f"artifact {spec!r} is not '[entity/][project/]name[:ref]'")
    if not project:
        raise UsageError(f"artifact {spec!r} names no project; use "
                         "'project/name:alias' or start a run first")
    return entity, project, check_artifact_name(parts[-1]), ref or "latest"


def _stage_entry(entry: Entry, run_dir: Path) -> dict[str, Any]:
    if entry.ref:
        return pending_entry(entry, "")
    if entry.extra.get("policy") == "immutable":
        entry.sha256, entry.size = hash_file(entry.local_path)
        return pending_entry(entry, entry.local_path)
    entry.sha256, entry.size, local = copy_hashed(entry.local_path, run_dir)
    entry.local_path = str(run_dir / local)  # the draft's own copy goes next
    return pending_entry(entry, local)


def _from_path(path: str | os.PathLike[str], name: str | None,
               type: str | None) -> Artifact:
    source = Path(path)
    artifact = Artifact(name or source.name, type or "unspecified")
    if source.is_dir():
        artifact.add_dir(source)
    else:
        artifact.add_file(source)
    return artifact


def _platform(run: Run | None) -> Any:
    from ..run_files import platform_of

    return platform_of(run)
