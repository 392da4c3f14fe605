"""The lineage graph of one artifact version, in five columns.

Column 0 holds the artifacts the producing runs used, 1 the producing runs,
2 the version itself, 3 the runs that used it and 4 what those runs logged.
Producers come from ``artifact_lineage`` and from the version's own
``producer_run``; runs of entities the caller is not a member of are left
out. Each column keeps at most `MAX_COLUMN` nodes and says how many more
there were.
"""

from __future__ import annotations

from typing import Any

from ..common.accounts import Principal
from ..writer.storage import Storage
from . import values
from .files import USED_BY_SQL

MAX_COLUMN = 40

_ARTIFACTS_OF = """
SELECT entity, project, run_id, artifact_entity, artifact_project, name,
       artifact_version, type
FROM artifact_lineage FINAL
WHERE concat(entity, '/', project, '/', run_id) IN {runs:Array(String)}
  AND used = {u:UInt8} AND deleted = 0
ORDER BY timestamp
"""

_RUN_FIELDS = """
SELECT run_id, field, value FROM run_fields FINAL
WHERE entity = {e:String} AND project = {p:String}
  AND run_id IN {ids:Array(String)} AND field IN ('name', 'state')
  AND deleted = 0
"""


def graph(storage: Storage, who: Principal, version: dict[str, Any]) -> dict:
    """``{"nodes": [...], "edges": [[from, to], ...], "more": {column: n}}``."""
    builder = _Graph()
    this = builder.artifact(2, version["entity"], version["project"],
                            version["name"], version["version"], version["type"])
    producers, consumers = _runs_of(storage, who, version)
    for path in producers:
        builder.edge(builder.run(1, path), this)
    for path in consumers:
        builder.edge(this, builder.run(3, path))
    for row in _artifacts_of(storage, producers, used=True):
        node = builder.artifact(0, *_artifact_key(row))
        builder.edge(node, builder.run(1, _run_path(row)))
    for row in _artifacts_of(storage, consumers, used=False):
        node = builder.artifact(4, *_artifact_key(row))
        builder.edge(builder.run(3, _run_path(row)), node)
    _name_runs(storage, builder.nodes)
    return builder.result()


def _runs_of(
    storage: Storage, who: Principal, version: dict[str, Any]
) -> tuple[list[str], list[str]]:
    rows = storage.query(USED_BY_SQL, {"e": version["entity"], "p": version["project"],
                                    "n": version["name"], "v": version["version"]})
    producers = [version["producer_run"]] if version.get("producer_run") else []
    consumers: list[str] = []
    for row in rows:
        (consumers if row["used"] else producers).append(_run_path(row))
    allowed = [p for p in dict.fromkeys(producers) if _visible(who, p)]
    return allowed, [p for p in dict.fromkeys(consumers) if _visible(who, p)]


def _visible(who: Principal, path: str) -> bool:
    parts = path.split("/")
    return len(parts) == 3 and all(parts) and who.can_access(parts[0])


def _artifacts_of(storage: Storage, runs: list[str], used: bool) -> list[dict]:
    if not runs:
        return []
    return storage.query(_ARTIFACTS_OF, {"runs": runs, "u": 1 if used else 0})


def _run_path(row: dict[str, Any]) -> str:
    return f"{row['entity']}/{row['project']}/{row['run_id']}"


def _artifact_key(row: dict[str, Any]) -> tuple[str, str, str, str, str]:
    return (row["artifact_entity"], row["artifact_project"], row["name"],
            row["artifact_version"], row["type"])


def _name_runs(storage: Storage, nodes: dict[str, dict[str, Any]]) -> None:
    """Give run nodes their display name and state, one query per project."""
    by_project: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for node in nodes.values():
        if node["kind"] == "run":
            key = (node["entity"], node["project"])
            by_project.setdefault(key, []).append(node)
    for (entity, project), runs in by_project.items():
        ids = [node["run_id"] for node in runs]
        rows = storage.query(_RUN_FIELDS, {"e": entity, "p": project, "ids": ids})
        fields = {(r["run_id"], r["field"]): values.load(r["value"]) for r in rows}
        for node in runs:
            node["label"] = str(fields.get((node["run_id"], "name")) or
                                node["run_id"])
            node["state"] = fields.get((node["run_id"], "state")) or ""


class _Graph:
    """Nodes keyed by id, deduplicated, with capped columns."""

    def __init__(self) -> None:
        self.nodes: dict[str, dict[str, Any]] = {}
        self.edges: set[tuple[str, str]] = set()
        self.dropped: dict[str, int] = {}

    def run(self, column: int, path: str) -> str | None:
        entity, project, run_id = path.split("/", 2)
        return self._add(f"run:{column}:{path}", {
            "kind": "run", "column": column, "entity": entity, "project": project,
            "run_id": run_id, "label": run_id})

    def artifact(
        self, column: int, entity: str, project: str, name: str, version: str,
        type_: str,
    ) -> str | None:
        node_id = f"artifact:{column}:{entity}/{project}/{name}:{version}"
        return self._add(node_id, {
            "kind": "artifact", "column": column, "entity": entity,
            "project": project, "name": name, "version": version, "type": type_,
            "label": f"{name}:{version}"})

    def edge(self, source: str | None, target: str | None) -> None:
        if source and target:
            self.edges.add((source, target))

    def result(self) -> dict[str, Any]:
        return {"nodes": list(self.nodes.values()),
                "edges": sorted([a, b] for a, b in self.edges),
                "more": {str(c): list(self.dropped.values()).count(c)
                         for c in sorted(set(self.dropped.values()))}}

    def _add(self, node_id: str, node: dict[str, Any]) -> str | None:
        if node_id in self.nodes:
            return node_id
        column = node["column"]
        if sum(n["column"] == column for n in self.nodes.values()) >= MAX_COLUMN:
            self.dropped[node_id] = column
            return None
        node["id"] = node_id
        self.nodes[node_id] = node
        return node_id
