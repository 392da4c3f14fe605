"""Public objects returned by `Api`: projects, runs, and the paged run list."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from ..errors import UsageError
from ._http import Transport
from ._values import decode


def run_path(entity: str, project: str, run_id: str = "") -> str:
    parts = [quote(entity, safe=""), quote(project, safe="")]
    if run_id:
        parts.append(quote(run_id, safe=""))
    return "/api/v1/runs/" + "/".join(parts)


@dataclass(frozen=True)
class Project:
    entity: str
    name: str
    run_count: int
    last_activity: float | None


class Run:
    """One run as stored: its fields, and its history read on demand."""

    def __init__(self, transport: Transport, data: dict[str, Any]) -> None:
        self._transport = transport
        self._load(data)

    def _load(self, data: dict[str, Any]) -> None:
        data = decode(data)
        self.id: str = data["id"]
        self.entity: str = data["entity"]
        self.project: str = data["project"]
        self.config: dict[str, Any] = data.get("config") or {}
        self.summary: dict[str, Any] = data.get("summary") or {}
        self.name: str | None = data.get("name")
        self.state: str = data.get("state") or "running"
        self.tags: list[str] = list(data.get("tags") or [])
        self.notes: str = data.get("notes") or ""
        self.group: str | None = data.get("group")
        self.job_type: str | None = data.get("job_type")
        self.created_at: float | None = data.get("created_at")
        self.heartbeat_at: float | None = data.get("heartbeat_at")
        self.finished_at: float | None = data.get("finished_at")
        self.exit_code: int | None = data.get("exit_code")
        self.user: str | None = data.get("user")
        self.metadata: dict[str, Any] = data.get("metadata") or {}
        self.url: str = data.get("url") or ""

    @property
    def path(self) -> list[str]:
        return [self.entity, self.project, self.id]

    def __repr__(self) -> str:
        return f"<Run {'/'.join(self.path)} ({self.state})>"

    def refresh(self) -> Run:
        """Read the run's fields again; returns the run."""
        self._load(self._transport.get(run_path(*self.path)))
        return self

    def history(
        self,
        samples: int = 500,
        keys: list[str] | None = None,
        x_axis: str = "_step",
        pandas: bool = True,
        stream: str = "default",
    ) -> Any:
        """At most `samples` logged rows, sampled so spikes and ends survive.

        Returns a pandas DataFrame when `pandas` is true and pandas is
        installed, else a list of dicts (one per step). `stream="system"`
        gives the system metrics instead.
        """
        if stream not in ("default", "system"):
            raise UsageError(f"stream {stream!r} is not 'default' or 'system'")
        base = run_path(*self.path)
        if stream == "system":
            found = self._transport.get(base + "/system", {"samples": samples})
        else:
            params = {"samples": samples, "x_axis": x_axis, "key": keys or None}
            found = self._transport.get(base + "/history", params)
        rows = [decode(row) for row in found["rows"]]
        return _frame(rows) if pandas else rows

    def scan_history(
        self,
        keys: list[str] | None = None,
        page_size: int = 1000,
        min_step: int | None = None,
        max_step: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every logged row in step order, fetched `page_size` steps at a time."""
        params: dict[str, Any] = {"key": keys or None, "page_size": page_size,
                                  "min_step": min_step, "max_step": max_step}
        while True:
            page = self._transport.get(run_path(*self.path) + "/history/scan", params)
            for row in page["rows"]:
                yield decode(row)
            if page.get("next_min_step") is None:
                return
            params["min_step"] = page["next_min_step"]


def _frame(rows: list[dict[str, Any]]) -> Any:
    try:
        import pandas
    except ImportError:
        return rows
    return pandas.DataFrame(rows)


class Runs:
    """A project's runs, fetched a page at a time as you iterate."""

    def __init__(
        self, transport: Transport, entity: str, project: str, per_page: int,
        order: str = "-created_at",
    ) -> None:
        self._transport = transport
        self._url = run_path(entity, project)
        self._per_page = per_page
        self._order = order
        self._loaded: list[Run] = []
        self._total: int | None = None

    def __len__(self) -> int:
        if self._total is None:
            self._fetch_page()
        return self._total or 0

    def __iter__(self) -> Iterator[Run]:
        index = 0
        while True:
            if index >= len(self._loaded):
                if not self._fetch_page():
                    return
            yield self._loaded[index]
            index += 1

    def __getitem__(self, index: int) -> Run:
        if index < 0:
            index += len(self)
        while index >= len(self._loaded) and self._fetch_page():
            pass
        return self._loaded[index]

    def _fetch_page(self) -> bool:
        if self._total is not None and len(self._loaded) >= self._total:
            return False
        page = self._transport.get(self._url, {
            "limit": self._per_page, "offset": len(self._loaded), "order": self._order
        })
        self._total = page["total"]
        self._loaded += [Run(self._transport, data) for data in page["runs"]]
        return bool(page["runs"])
