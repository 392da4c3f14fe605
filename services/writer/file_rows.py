"""Rows of run files and artifact lineage: `FileEntry`, `ArtifactEvent`,
`AliasMove` into `run_files`, `artifact_lineage` and `artifact_alias_log`.

A `FileEntry` that reached the writer without content (the agent found no
file to upload, for example a WAL synced on another machine) adds no row, so
it cannot hide an earlier upload of the same path. An `ArtifactEvent` names a
logged artifact by its plain name (the run's entity and project) and a used
one as ``entity/project/name``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .rows import RowSet, _Context


def file_entry(rows: RowSet, ctx: _Context) -> None:
    """One `run_files` row for a file uploaded, or deleted."""
    entry = ctx.event.file
    if not entry.path:
        raise ctx.fail("file event without a path")
    if not entry.sha256 and not entry.deleted:
        return
    rows.table("run_files").add(
        {
            **ctx.ids(1),
            "path": [entry.path],
            "sha256": [entry.sha256],
            "size": np.array([entry.size], dtype=np.uint64),
            "manifest": [entry.manifest_json],
            "deleted": np.array([1 if entry.deleted else 0], dtype=np.uint8),
            "timestamp": _times(ctx),
        },
        1,
    )


def artifact_event(rows: RowSet, ctx: _Context) -> None:
    """One `artifact_lineage` row for a version logged, used or deleted."""
    event = ctx.event.artifact
    if not event.version:
        return  # the version was never created: no lineage to record
    entity, project, name = _artifact_place(event.name, ctx)
    rows.table("artifact_lineage").add(
        {
            **ctx.ids(1),
            "used": np.array([1 if event.used else 0], dtype=np.uint8),
            "artifact_entity": [entity],
            "artifact_project": [project],
            "name": [name],
            "artifact_version": [event.version],
            "type": [event.type],
            "digest": [event.digest],
            "deleted": np.array([1 if event.deleted else 0], dtype=np.uint8),
            "timestamp": _times(ctx),
        },
        1,
    )


def alias_move(rows: RowSet, ctx: _Context) -> None:
    """One `artifact_alias_log` row per alias set or removed."""
    move = ctx.event.alias
    rows.table("artifact_alias_log").add(
        {
            **ctx.ids(1),
            "name": [move.name],
            "alias": [move.alias],
            "artifact_version": [move.version],
            "timestamp": _times(ctx),
        },
        1,
    )


def _artifact_place(name: str, ctx: _Context) -> tuple[str, str, str]:
    parts = name.split("/")
    if len(parts) == 3 and all(parts):
        return parts[0], parts[1], parts[2]
    if len(parts) == 1 and name:
        return ctx.batch.entity, ctx.batch.project, name
    raise ctx.fail(f"artifact name {name!r} is neither 'name' nor "
                   "'entity/project/name'")


def _times(ctx: Any) -> np.ndarray:
    return np.array([ctx.event.timestamp], dtype=np.float64)
