"""A run's summary: one value per metric, kept by the rules of `define_metric`.

Keys are flat and dotted, as in the history. By default a metric's summary is
its last value, under its own key. ``define_metric("loss", summary="min")``
keeps the minimum under ``loss.min`` instead (``"min,max"`` keeps both; the
choices are min, max, mean, first, last and none; ``last`` keeps the plain
key). Reading ``summary["loss"]`` when only ``loss.min`` exists gives
``{"min": ...}``, the nested view other trackers give.

The writer thread feeds logged rows in; the script reads and sets values from
its own thread. Reads first wait (a bounded time) until the writer has taken in
every row logged so far, so a value read right after ``log()`` is current.
"""

from __future__ import annotations

import fnmatch
import json
import math
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from . import history
from .errors import UsageError

AGGREGATES = ("min", "max", "mean", "first", "last", "none")
_DEFAULT_RULE = ("last",)
_MAX_JSON_SUMMARY = 65536
_SKIP = object()


@dataclass(frozen=True)
class MetricDefinition:
    """One ``define_metric`` call."""

    name: str
    step_metric: str = ""
    summary: tuple[str, ...] = _DEFAULT_RULE


def parse_summary(text: str | None) -> tuple[str, ...]:
    """The aggregates named in `text` (``"min,max"``), checked.

    Raises:
        UsageError: an aggregate is not one of `AGGREGATES`.
    """
    if text is None or text == "":
        return _DEFAULT_RULE
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [name for name in names if name not in AGGREGATES]
    if unknown or not names:
        raise UsageError(
            f"summary={text!r} is not understood; use one or more of "
            f"{', '.join(AGGREGATES)}, separated by commas"
        )
    return names


class MetricRules:
    """The summary rule of each key: an exact name first, then the latest glob."""

    def __init__(self) -> None:
        self._exact: dict[str, tuple[str, ...]] = {}
        self._globs: list[tuple[str, tuple[str, ...]]] = []
        self._cache: dict[str, tuple[str, ...]] = {}

    @property
    def defined(self) -> bool:
        return bool(self._exact or self._globs)

    def define(self, definition: MetricDefinition) -> None:
        if any(char in definition.name for char in "*?["):
            self._globs.insert(0, (definition.name, definition.summary))
        else:
            self._exact[definition.name] = definition.summary
        self._cache.clear()

    def rule(self, key: str) -> tuple[str, ...]:
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self._resolve(key)
        return found

    def _resolve(self, key: str) -> tuple[str, ...]:
        if key in self._exact:
            return self._exact[key]
        for pattern, rule in self._globs:
            if fnmatch.fnmatchcase(key, pattern):
                return rule
        return _DEFAULT_RULE


class _Stats:
    __slots__ = ("low", "high", "total", "count", "first")

    def __init__(self) -> None:
        self.low = math.inf
        self.high = -math.inf
        self.total = 0.0
        self.count = 0
        self.first: Any = _SKIP

    def add(self, value: Any) -> None:
        if self.first is _SKIP:
            self.first = value
        if isinstance(value, (int, float)) and not math.isnan(value):
            self.low = min(self.low, value)
            self.high = max(self.high, value)
            self.total += value
            self.count += 1

    def aggregate(self, name: str) -> Any:
        if name == "first":
            return None if self.first is _SKIP else self.first
        if self.count == 0:
            return None
        return {"min": self.low, "max": self.high}.get(name, self.total / self.count)


class Summary:
    """The summary of one run, shared by the script and the writer thread."""

    def __init__(self, sync: Callable[[], None] | None = None) -> None:
        object.__setattr__(self, "_lock", threading.Lock())
        object.__setattr__(self, "_values", {})
        object.__setattr__(self, "_dirty", set())
        object.__setattr__(self, "_removed", set())
        object.__setattr__(self, "_stats", {})
        object.__setattr__(self, "_rules", MetricRules())
        object.__setattr__(self, "_sync", sync)

    # ---- the script's side -------------------------------------------------

    def __getitem__(self, key: str) -> Any:
        self._wait_for_writer()
        with self._lock:
            return self._lookup(key)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"summary has no key {name!r}") from None

    def __setitem__(self, key: str, value: Any) -> None:
        self.update({key: value})

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        else:
            self.update({name: value})

    def __delitem__(self, key: str) -> None:
        self._wait_for_writer()
        with self._lock:
            doomed = [k for k in self._values if k == key or k.startswith(key + ".")]
            if not doomed:
                raise KeyError(key)
            for name in doomed:
                del self._values[name]
                self._dirty.discard(name)
                self._removed.add(name)

    def __contains__(self, key: object) -> bool:
        try:
            self[key]  # type: ignore[index]
        except KeyError:
            return False
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.keys())

    def __repr__(self) -> str:
        return f"Summary({self.as_dict()!r})"

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def keys(self) -> list[str]:
        self._wait_for_writer()
        with self._lock:
            return list(self._values)

    def items(self) -> list[tuple[str, Any]]:
        self._wait_for_writer()
        with self._lock:
            return list(self._values.items())

    def as_dict(self) -> dict[str, Any]:
        """The summary as a flat dict of dotted keys."""
        return dict(self.items())

    def update(self, values: Mapping[str, Any]) -> None:
        """Set summary values; nested dicts become dotted keys."""
        flat = _flatten(values)
        with self._lock:
            for key, value in flat.items():
                self._values[key] = value
                self._dirty.add(key)
                self._removed.discard(key)

    def _wait_for_writer(self) -> None:
        if self._sync is not None:
            self._sync()

    def _lookup(self, key: str) -> Any:
        if key in self._values:
            return self._values[key]
        prefix = key + "."
        nested = {
            k[len(prefix) :]: v for k, v in self._values.items() if k.startswith(prefix)
        }
        if not nested:
            raise KeyError(key)
        return nested

    # ---- the writer thread's side -------------------------------------------

    def define(self, definition: MetricDefinition) -> None:
        with self._lock:
            self._rules.define(definition)

    def observe_row(
        self, meta: dict[str, Any], values: dict[str, history.Classified]
    ) -> None:
        """Take in one stored row: `meta` is ``_step`` and friends."""
        with self._lock:
            if meta["_step"] >= self._values.get("_step", -1):
                self._values.update(meta)
                self._dirty.update(meta)
            rules = self._rules if self._rules.defined else None
            target = self._values
            for key, (kind, payload) in values.items():
                if rules is not None and rules.rule(key) is not _DEFAULT_RULE:
                    self._observe_aggregate(key, rules.rule(key), kind, payload)
                    continue
                if kind != history.FLOAT and kind != history.INT:
                    payload = _python_value(kind, payload)
                    if payload is _SKIP:
                        continue
                target[key] = payload
            self._dirty.update(values)

    def _observe_aggregate(
        self, key: str, rule: tuple[str, ...], kind: int, payload: Any
    ) -> None:
        value = _python_value(kind, payload)
        if value is _SKIP:
            return
        stats = self._stats.get(key)
        if stats is None:
            stats = self._stats[key] = _Stats()
        stats.add(value)
        for name in rule:
            if name == "none":
                continue
            target = key if name == "last" else f"{key}.{name}"
            result = value if name == "last" else stats.aggregate(name)
            if result is not None:
                self._values[target] = result
                self._dirty.add(target)

    def take_changes(self) -> tuple[dict[str, Any], list[str]] | None:
        """The keys set and removed since the last call, or None."""
        with self._lock:
            if not self._dirty and not self._removed:
                return None
            values = self._values
            changed = {key: values[key] for key in self._dirty if key in values}
            removed = sorted(self._removed)
            self._dirty.clear()
            self._removed.clear()
        return changed, removed

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._values)

    def _load_stored(self, stored: Mapping[str, Any]) -> None:
        """Values the server already holds (a resume)."""
        with self._lock:
            self._values.update(_flatten(stored))

    def _after_fork(self) -> None:
        # the writer may have held the lock when the process forked
        object.__setattr__(self, "_lock", threading.Lock())
        object.__setattr__(self, "_sync", None)

    def _detach(self) -> None:
        object.__setattr__(self, "_sync", None)



def _python_value(kind: int, payload: Any) -> Any:
    if kind == history.BOOL:
        return bool(payload)
    if kind == history.BIGINT:
        return int(payload)
    if kind == history.JSON:
        return json.loads(payload) if len(payload) <= _MAX_JSON_SUMMARY else _SKIP
    return payload


def _flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = _plain(value)
    return flat


def _plain(value: Any) -> Any:
    try:
        kind, payload = history.classify(history.snapshot(value))
    except history.Unserializable:
        return str(value)
    value = _python_value(kind, payload)
    return None if value is _SKIP else value
