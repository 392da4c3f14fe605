"""``lodestar sync --verify PATH``: compare a WAL with what the server holds.

For each run directory it reads the WAL (every record's CRC-32 is checked on
the way) and asks the query service what it stored from that WAL
(``GET /api/v1/runs/<e>/<p>/<run>/wals/<wal_id>``), then compares:

- records: the WAL's last event number against the highest one applied;
- steps: per history key, the number of steps, the lowest and the highest;
- checksums: per key, the sum of the steps and the sum of the finite float
  values (a value logged twice at one step counts once, the later one).

A value the server refused at ingest (see the run's warnings) shows as a
difference too: the server does not hold it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from . import history
from .wal import WalCorrupt, WalReader

_FLOAT_TOLERANCE = 1e-9


@dataclass
class KeyFacts:
    """What one history key holds: counts and checksums."""

    rows: int = 0
    min_step: int | None = None
    max_step: int | None = None
    step_sum: int = 0
    value_sum: float = 0.0


@dataclass
class WalFacts:
    """What a WAL file holds."""

    wal_id: str
    entity: str
    project: str
    run_id: str
    last_seq: int = 0
    problem: str = ""
    keys: dict[str, KeyFacts] = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    """The outcome for one run directory."""

    run_dir: Path
    differences: list[str]

    @property
    def ok(self) -> bool:
        return not self.differences


def read_wal(path: Path) -> WalFacts:
    """Count and checksum a WAL's history, checking every record's CRC."""
    reader = WalReader(path)
    values: dict[str, dict[int, Any]] = {}
    facts = WalFacts("", "", "", "")
    try:
        for event in reader.events():
            facts.last_seq = event.seq
            if event.WhichOneof("body") == "history":
                _take(values, event.history)
    except WalCorrupt as exc:
        facts.problem = f"the WAL is damaged: {exc}"
    header = reader.header
    if header is not None:
        facts.wal_id, facts.entity = header.wal_id, header.entity
        facts.project, facts.run_id = header.project, header.run_id
    facts.keys = {key: _facts(steps) for key, steps in values.items()}
    return facts


def _take(values: dict[str, dict[int, Any]], batch: Any) -> None:
    for step, _, _, row in history.decode_batch(batch):
        for key, value in row.items():
            values.setdefault(key, {})[step] = value


def _facts(steps: dict[int, Any]) -> KeyFacts:
    floats = [v for v in steps.values()
              if type(v) is float and math.isfinite(v)]
    return KeyFacts(len(steps), min(steps), max(steps), sum(steps), math.fsum(floats))


def compare(local: WalFacts, server: dict[str, Any]) -> list[str]:
    """Every difference between the WAL and the server's counts."""
    found = [local.problem] if local.problem else []
    applied = int(server.get("max_seq") or 0)
    if applied != local.last_seq:
        found.append(f"records: the WAL has {local.last_seq}, the server applied "
                     f"{applied}")
    stored = server.get("keys") or {}
    for key in sorted(set(local.keys) | set(stored)):
        found += _key_differences(key, local.keys.get(key), stored.get(key))
    return found


def _key_differences(
    key: str, mine: KeyFacts | None, theirs: dict[str, Any] | None
) -> list[str]:
    if mine is None:
        rows = theirs["rows"] if theirs else 0
        return [f"{key!r}: the server has {rows} steps the WAL lacks"]
    if theirs is None:
        return [f"{key!r}: the server has none of the WAL's {mine.rows} steps"]
    found = []
    for name in ("rows", "min_step", "max_step", "step_sum"):
        if getattr(mine, name) != theirs[name]:
            found.append(f"{key!r}: {name} is {getattr(mine, name)} in the WAL, "
                         f"{theirs[name]} on the server")
    scale = max(abs(mine.value_sum), abs(theirs["value_sum"]), 1.0)
    if abs(mine.value_sum - theirs["value_sum"]) > _FLOAT_TOLERANCE * scale:
        found.append(f"{key!r}: the values differ (sum {mine.value_sum!r} in the "
                     f"WAL, {theirs['value_sum']!r} on the server)")
    return found


def verify(run_dirs: Iterable[Path], api: Any) -> list[Verdict]:
    """Compare each run directory's WAL with the server, through `api`."""
    verdicts = []
    for run_dir in run_dirs:
        wal = next(iter(sorted(run_dir.glob("*.wal"))), None)
        if wal is None:
            verdicts.append(Verdict(run_dir, ["no WAL in the directory"]))
            continue
        local = read_wal(wal)
        entity = local.entity or api.default_entity
        path = "/".join(quote(p, safe="") for p in (
            entity, local.project, local.run_id, "wals", local.wal_id))
        server = api._transport.get("/api/v1/runs/" + path)
        verdicts.append(Verdict(run_dir, compare(local, server)))
    return verdicts
