"""Runs and projects: a run is the fold of its latest `run_fields` rows."""

from __future__ import annotations

from typing import Any

from ..writer.storage import Storage
from . import epochs, values
from .history import RunRef

_SCALARS = (
    "name", "state", "group", "job_type", "notes", "tags", "metadata", "user",
    "heartbeat_at", "finished_at", "exit_code", "finish_reason", "state_reason",
    "epoch", "resume_from", "fork_from",
)
ORDERS = {"created_at": "created ASC, run_id ASC",
          "-created_at": "created DESC, run_id ASC"}


class RunReader:
    """Reads runs and projects from one store."""

    def __init__(self, storage: Storage, public_url: str = "") -> None:
        self._storage = storage
        self._public_url = public_url.rstrip("/")

    def projects(self, entity: str) -> list[dict[str, Any]]:
        rows = self._storage.query(
            "SELECT project, count() AS runs, max(run_last) AS last_at FROM ("
            "SELECT project, run_id, max(timestamp) AS run_last FROM run_fields "
            "WHERE entity = {e:String} GROUP BY project, run_id "
            "HAVING countIf(field = 'deleted') = 0"
            ") GROUP BY project ORDER BY project",
            {"e": entity},
        )
        return [{"entity": entity, "name": row["project"], "run_count": row["runs"],
                 "last_activity": row["last_at"]} for row in rows]

    def page(
        self, entity: str, project: str, limit: int, offset: int, order: str
    ) -> dict[str, Any]:
        """One page of a project's runs, and how many there are."""
        found = self._storage.query(
            "SELECT run_id, minIf(toFloat64OrZero(value), field = 'created_at') "
            "AS created FROM run_fields "
            "WHERE entity = {e:String} AND project = {p:String} GROUP BY run_id "
            "HAVING countIf(field = 'deleted') = 0 "
            f"ORDER BY {ORDERS[order]} LIMIT {{n:UInt64}} OFFSET {{o:UInt64}}",
            {"e": entity, "p": project, "n": limit, "o": offset},
        )
        ids = [row["run_id"] for row in found]
        folded = self._fold(entity, project, ids)
        runs = [folded[i] for i in ids if i in folded]
        return {"runs": runs, "total": self._count(entity, project)}

    def get(self, run: RunRef) -> dict[str, Any] | None:
        folded = self._fold(run.entity, run.project, [run.run_id])
        found = folded.get(run.run_id)
        return None if found is None or found.get("deleted") else found

    def many(self, entity: str, project: str, ids: list[str]) -> list[dict[str, Any]]:
        """The runs of `ids` that exist, in the order of `ids`."""
        folded = self._fold(entity, project, ids)
        return [folded[i] for i in ids if i in folded and not folded[i].get("deleted")]

    def _count(self, entity: str, project: str) -> int:
        rows = self._storage.query(
            "SELECT count() AS n FROM (SELECT run_id FROM run_fields "
            "WHERE entity = {e:String} AND project = {p:String} GROUP BY run_id "
            "HAVING countIf(field = 'deleted') = 0)",
            {"e": entity, "p": project},
        )
        return int(rows[0]["n"])

    def _fold(
        self, entity: str, project: str, ids: list[str]
    ) -> dict[str, dict[str, Any]]:
        if not ids:
            return {}
        rows = self._storage.query(
            "SELECT run_id, field, name, value, deleted FROM run_fields FINAL "
            "WHERE entity = {e:String} AND project = {p:String} "
            "AND run_id IN {ids:Array(String)} ORDER BY run_id, field, name",
            {"e": entity, "p": project, "ids": ids},
        )
        runs: dict[str, dict[str, Any]] = {}
        for row in rows:
            run = runs.setdefault(row["run_id"], self._empty(entity, project, row))
            _apply(run, row)
        encoded = {run_id: values.encode(run) for run_id, run in runs.items()}
        epochs.recompute_summaries(self._storage, entity, project, encoded)
        return encoded

    def _empty(self, entity: str, project: str, row: dict[str, Any]) -> dict:
        run_id = row["run_id"]
        run: dict[str, Any] = dict.fromkeys(_SCALARS)
        run.update(id=run_id, entity=entity, project=project, state="running",
                   notes="", epoch=0, tags=[], metadata={}, config={}, summary={},
                   created_at=None)
        run["url"] = f"{self._public_url}/#/{entity}/{project}/{run_id}"
        return run


def _apply(run: dict[str, Any], row: dict[str, Any]) -> None:
    field, name = row["field"], row["name"]
    value = None if row["deleted"] else values.load(row["value"])
    if field in ("config", "summary"):
        if not row["deleted"]:
            run[field][name] = value
    elif field == "created_at":
        earliest = run["created_at"]
        if value is not None and (earliest is None or value < earliest):
            run["created_at"] = value
    elif field == "deleted":
        run["deleted"] = True
    elif field in _SCALARS:
        run[field] = value
