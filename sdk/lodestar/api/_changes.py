"""What changed in a run read through `Api` since it was loaded.

`Run.update()` sends only the difference: scalar fields that differ, config
and summary keys set or removed. Values are compared by their JSON text, so a
NaN that was NaN before counts as unchanged.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

SCALARS = ("name", "notes", "tags", "group", "job_type")


class RunSummary(dict):
    """A run's summary. ``update()`` saves the changes to the platform now.

    ``summary["k"] = v`` and ``del summary["k"]`` change only the local copy
    until ``summary.update()`` or ``run.update()``; ``summary.update({...})``
    sets the keys given and saves at once.
    """

    def __init__(self, data: dict[str, Any], save: Callable[[], None]) -> None:
        super().__init__(data)
        self._save = save

    def update(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        super().update(*args, **kwargs)
        self._save()


def snapshot(fields: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of what was loaded, to diff against later."""
    return copy.deepcopy(fields)


def difference(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The PATCH body that turns `before` into `after` (empty: no change)."""
    body: dict[str, Any] = {}
    for name in SCALARS:
        if _text(before.get(name)) != _text(after.get(name)):
            value = after.get(name)
            body[name] = list(value or []) if name == "tags" else (value or "")
    for name in ("config", "summary"):
        keys = _keys_changed(before.get(name) or {}, after.get(name) or {})
        if keys:
            body[name] = keys
    return body


def _keys_changed(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    changed = {k: v for k, v in after.items()
               if k not in before or _text(before[k]) != _text(v)}
    removed = [k for k in before if k not in after]
    if not changed and not removed:
        return {}
    return {"set": changed, "remove": removed}


def _text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)
