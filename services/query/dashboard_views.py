"""Saved dashboards, kept in the query service's ``views`` KV bucket.

A dashboard belongs to a project: a title, a runs filter and a grid of panels
(each with a kind, its metrics and its size in the four-column grid; its
place is its order). Anyone who can read the
project can open it by its URL; anyone who can write the project can save
over it. Keys are ``dash.<entity>.<project>.<slug>`` with every part encoded
by `names.encode_token`, so any project name works.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from nats.js.errors import KeyDeletedError, KeyNotFoundError, NoKeysError
from nats.js.kv import KeyValue

from ..common.names import encode_token

PANEL_KINDS = ("line", "bar", "scalar", "table", "media")
MAX_PANELS = 64
MAX_METRICS = 16
PANEL_WIDTH = 4  # columns of the dashboard grid
PANEL_HEIGHT = 3  # rows of the dashboard grid
MAX_BYTES = 256 * 1024
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class ViewError(ValueError):
    """A dashboard that cannot be saved as given."""

    def __init__(self, what: str, rule: str) -> None:
        self.what = what
        self.rule = rule
        super().__init__(f"{what}: {rule}")


def _key(entity: str, project: str, slug: str) -> str:
    return ".".join(["dash", encode_token(entity), encode_token(project), slug])


def check_dashboard(slug: str, body: dict[str, Any]) -> dict[str, Any]:
    """The stored form of a dashboard, or ViewError saying what is wrong."""
    if not _SLUG.match(slug):
        raise ViewError(f"dashboard id {slug!r}", "use 1-64 of a-z, 0-9, '_', '-'")
    panels = body.get("panels", [])
    if not isinstance(panels, list) or len(panels) > MAX_PANELS:
        raise ViewError("panels", f"a list of at most {MAX_PANELS} panels")
    record = {
        "id": slug,
        "title": str(body.get("title") or slug)[:200],
        "filter": str(body.get("filter") or ""),
        "panels": [_check_panel(i, panel) for i, panel in enumerate(panels)],
    }
    if len(json.dumps(record)) > MAX_BYTES:
        raise ViewError("dashboard", f"keep it under {MAX_BYTES // 1024} KiB")
    return record


def _check_panel(index: int, panel: Any) -> dict[str, Any]:
    """A panel's kind, title, metrics and place: `{"w": 1-4, "h": 1-3}`."""
    kind = panel.get("kind") if isinstance(panel, dict) else None
    if kind not in PANEL_KINDS:
        raise ViewError(f"panel {index} kind {kind!r}",
                        f"use one of {', '.join(PANEL_KINDS)}")
    metrics = panel.get("metrics") or []
    if not isinstance(metrics, list) or not all(isinstance(m, str) for m in metrics):
        raise ViewError(f"panel {index} metrics {metrics!r}", "a list of metric names")
    layout = panel.get("layout") or {}
    sizes = {"w": layout.get("w", 1), "h": layout.get("h", 1)}
    for name, most in (("w", PANEL_WIDTH), ("h", PANEL_HEIGHT)):
        if not isinstance(sizes[name], int) or not 1 <= sizes[name] <= most:
            raise ViewError(f"panel {index} layout {name}={sizes[name]!r}",
                            f"a whole number from 1 to {most}")
    return {"kind": kind, "title": str(panel.get("title") or "")[:200],
            "metrics": metrics[:MAX_METRICS], "layout": sizes}


class Dashboards:
    """Reads and writes the saved dashboards of every project."""

    def __init__(self, kv: KeyValue) -> None:
        self._kv = kv

    async def save(
        self, entity: str, project: str, slug: str, body: dict[str, Any], user: str
    ) -> dict[str, Any]:
        record = check_dashboard(slug, body)
        record.update(entity=entity, project=project, saved_by=user,
                      saved_at=time.time())
        await self._kv.put(_key(entity, project, slug), json.dumps(record).encode())
        return record

    async def get(self, entity: str, project: str, slug: str) -> dict[str, Any] | None:
        try:
            entry = await self._kv.get(_key(entity, project, slug))
        except (KeyNotFoundError, KeyDeletedError):
            return None
        return json.loads(entry.value) if entry.value else None

    async def delete(self, entity: str, project: str, slug: str) -> None:
        await self._kv.delete(_key(entity, project, slug))

    async def list(self, entity: str, project: str) -> list[dict[str, Any]]:
        """Id, title and save time of each dashboard of a project."""
        prefix = _key(entity, project, "")
        try:
            # nats-py matches these filters as substrings, not subject wildcards.
            keys = await self._kv.keys(filters=[prefix])
        except NoKeysError:
            return []
        found = []
        for key in sorted(k for k in keys if k.startswith(prefix)):
            record = await self.get(entity, project, key[len(prefix):])
            if record:
                found.append({k: record[k] for k in ("id", "title", "saved_at",
                                                     "saved_by")})
        return found


# ---- column choices of the runs table ------------------------------------------------

MAX_COLUMNS = 200
MAX_COLUMN_ID = 300


def _columns_key(user: str, entity: str, project: str) -> str:
    parts = (user, entity, project)
    return ".".join(["cols", *(encode_token(part) for part in parts)])


def check_columns(body: dict[str, Any]) -> dict[str, Any]:
    """The stored form of a column choice, or ViewError saying what is wrong."""
    order = list(dict.fromkeys(_column_ids("order", body.get("order"))))
    hidden = _column_ids("hidden", body.get("hidden", []))
    return {"order": order, "hidden": [i for i in dict.fromkeys(hidden) if i in order]}


def _column_ids(name: str, ids: Any) -> list[str]:
    if not isinstance(ids, list) or len(ids) > MAX_COLUMNS:
        raise ViewError(name, f"a list of at most {MAX_COLUMNS} column ids")
    if not all(isinstance(i, str) and 0 < len(i) <= MAX_COLUMN_ID for i in ids):
        raise ViewError(name, f"column ids are 1-{MAX_COLUMN_ID} characters")
    return ids


class ColumnChoices:
    """Which runs-table columns a user shows, in which order, per project."""

    def __init__(self, kv: KeyValue) -> None:
        self._kv = kv

    async def get(self, user: str, entity: str, project: str) -> dict[str, Any] | None:
        try:
            entry = await self._kv.get(_columns_key(user, entity, project))
        except (KeyNotFoundError, KeyDeletedError):
            return None
        return json.loads(entry.value) if entry.value else None

    async def save(
        self, user: str, entity: str, project: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        record = {**check_columns(body), "saved_at": time.time()}
        await self._kv.put(_columns_key(user, entity, project),
                           json.dumps(record).encode())
        return record

    async def forget(self, user: str, entity: str, project: str) -> None:
        await self._kv.delete(_columns_key(user, entity, project))
