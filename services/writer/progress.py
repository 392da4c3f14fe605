"""Per run and publisher, the highest event seq applied: idempotency for all time.

JetStream drops a duplicate only inside its duplicate window. The writer drops
any event at or below the high-water mark of its (run, publisher), whenever
it arrives, so replaying a WAL a month later changes nothing. Events of one
publisher arrive in sequence order, so one number per publisher is exact.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from .storage import Storage

ProgressKey = tuple[str, str, str, str]  # entity, project, run_id, publisher_id

_CACHE_LIMIT = 200_000


class Progress:
    """A cache of `publisher_progress` in front of the store."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage
        self._applied: dict[ProgressKey, int] = {}

    def applied(self, key: ProgressKey) -> int:
        """The highest seq applied for `key`; 0 when none."""
        if key not in self._applied:
            if len(self._applied) >= _CACHE_LIMIT:
                self._applied.clear()
            self._applied[key] = self._load(key)
        return self._applied[key]

    def record(self, marks: dict[ProgressKey, tuple[int, int]]) -> None:
        """Store new marks {key: (max_seq, stream_seq)}, then cache them."""
        if not marks:
            return
        keys = list(marks)
        now = time.time()
        self._storage.insert(
            "publisher_progress",
            {
                "entity": [k[0] for k in keys],
                "project": [k[1] for k in keys],
                "run_id": [k[2] for k in keys],
                "publisher_id": [k[3] for k in keys],
                "max_seq": [marks[k][0] for k in keys],
                "stream_seq": [marks[k][1] for k in keys],
                "updated_at": [now] * len(keys),
            },
        )
        for key in keys:
            self._applied[key] = marks[key][0]

    def forget(self, keys: Iterable[ProgressKey]) -> None:
        """Drop cached marks, so the next look-up reads the store."""
        for key in keys:
            self._applied.pop(key, None)

    def _load(self, key: ProgressKey) -> int:
        rows = self._storage.query(
            "SELECT max(max_seq) AS seq FROM publisher_progress "
            "WHERE entity = {e:String} AND project = {p:String} "
            "AND run_id = {r:String} AND publisher_id = {w:String}",
            {"e": key[0], "p": key[1], "r": key[2], "w": key[3]},
        )
        return int(rows[0]["seq"]) if rows else 0
