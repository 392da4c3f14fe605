"""Filtered, ordered pages of a project's runs.

The run pivot folds `run_fields` into one row per run in SQL: ``created_at``
(the earliest WAL's), ``fields`` (scalar field to its latest JSON text),
``config`` and ``summary`` (key to latest JSON text; removed keys left out),
and ``tombstones``. Filters and orders from `filters` are conditions on that
row; the page's runs are then folded in full by `RunReader`.
"""

from __future__ import annotations

from typing import Any

from ..writer.storage import Storage
from .filters import compile_filter, compile_order
from .runs import RunReader

PIVOT = """
SELECT run_id,
    minIf(toFloat64OrZero(value), field = 'created_at') AS created_at,
    mapFromArrays(groupArrayIf(field, scalar), groupArrayIf(value, scalar))
        AS fields,
    mapFromArrays(groupArrayIf(name, field = 'config' AND deleted = 0),
                  groupArrayIf(value, field = 'config' AND deleted = 0)) AS config,
    mapFromArrays(groupArrayIf(name, field = 'summary' AND deleted = 0),
                  groupArrayIf(value, field = 'summary' AND deleted = 0))
        AS summary,
    countIf(field = 'deleted') AS tombstones
FROM (
    SELECT run_id, field, name, argMax(value, version) AS value,
           argMax(deleted, version) AS deleted,
           name = '' AND field NOT IN ('config', 'summary', 'created_at')
               AS scalar
    FROM run_fields
    WHERE entity = {e:String} AND project = {p:String}
    GROUP BY run_id, field, name
)
GROUP BY run_id
"""


class RunSearch:
    """Finds runs of one project by a MongoDB-style filter."""

    def __init__(self, storage: Storage, public_url: str = "") -> None:
        self._storage = storage
        self._reader = RunReader(storage, public_url)

    def page(
        self,
        entity: str,
        project: str,
        filters: dict[str, Any] | None,
        order: str | None,
        limit: int,
        offset: int,
    ) -> dict[str, Any]:
        """One page of matching runs and how many match in all.

        Raises:
            FilterError: the filter or order cannot be used.
        """
        where = compile_filter(filters)
        sort = compile_order(order)
        params = {"e": entity, "p": project, **where.params, **sort.params}
        matching = f"SELECT * FROM ({PIVOT}) WHERE tombstones = 0 AND ({where.sql})"
        found = self._storage.query(
            f"SELECT run_id FROM ({matching}) ORDER BY {sort.sql} "
            "LIMIT {limit:UInt64} OFFSET {offset:UInt64}",
            {**params, "limit": limit, "offset": offset},
        )
        total = self._storage.query(f"SELECT count() AS n FROM ({matching})", params)
        runs = self._reader.many(entity, project, [row["run_id"] for row in found])
        return {"runs": runs, "total": int(total[0]["n"])}
