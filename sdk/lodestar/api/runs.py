"""Public objects returned by `Api`: projects, runs, and the paged run list."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from ..errors import UsageError
from ._changes import RunSummary, difference, snapshot
from ._export import runs_frame, write_csv
from ._http import Transport
from ._values import decode
from .tables import TableReader, table_id_of

STREAMS = {"default": "default", "system": "system", "events": "system"}


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
        self.summary: dict[str, Any] = RunSummary(
            data.get("summary") or {}, self._save_summary
        )
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
        self.epoch: int = int(data.get("epoch") or 0)
        self._stored = snapshot(self._editable())

    def _editable(self) -> dict[str, Any]:
        return {"name": self.name, "notes": self.notes, "tags": self.tags,
                "group": self.group, "job_type": self.job_type,
                "config": self.config, "summary": dict(self.summary)}

    @property
    def display_name(self) -> str:
        return self.name or self.id

    @property
    def path(self) -> list[str]:
        return [self.entity, self.project, self.id]

    def __repr__(self) -> str:
        return f"<Run {'/'.join(self.path)} ({self.state})>"

    def refresh(self) -> Run:
        """Read the run's fields again; returns the run."""
        self._load(self._transport.get(run_path(*self.path)))
        return self

    def update(self) -> Run:
        """Save the changes made to name, notes, tags, group, job_type, config
        and summary since the run was read; returns the run as now stored."""
        body = difference(self._stored, self._editable())
        if body:
            self._load(self._transport.patch(run_path(*self.path), body))
        return self

    def _save_summary(self) -> None:
        after = {**self._stored, "summary": dict(self.summary)}
        body = difference(self._stored, after)
        if body:
            self._load(self._transport.patch(run_path(*self.path), body))

    def delete(self, delete_artifacts: bool = False) -> None:
        """Delete the run: it disappears from every read, for good.

        Its rows stay in the store (a tombstone hides them), and a later
        sync of its WAL does not bring it back. With `delete_artifacts`, the
        artifact versions it logged are deleted too, with their aliases.
        """
        params = {"delete_artifacts": "true" if delete_artifacts else None}
        self._transport.delete(run_path(*self.path), params)

    def console_logs(self, last: int | None = None) -> list[str]:
        """The captured console lines, oldest first; only the `last` N if given."""
        found = self._transport.get(run_path(*self.path) + "/console", {"last": last})
        return [line["text"] for line in found["lines"]]

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
        if stream not in STREAMS:
            raise UsageError(
                f"stream {stream!r} is not 'default', 'system' or 'events'"
            )
        base = run_path(*self.path)
        if STREAMS[stream] == "system":
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

    def table(
        self, key: str, step: int | None = None, order: str | None = None,
        filters: list[tuple[str, str, Any]] | None = None,
        limit: int | None = None, pandas: bool = True,
    ) -> Any:
        """The table logged under `key` (the latest, or the one at `step`).

        Sorting (``order="col"`` or ``"-col"``) and filters (``[("col", ">",
        0.5)]``; ops ``==, !=, <, <=, >, >=, contains``) run on the server;
        rows come a page at a time. Returns a pandas DataFrame.
        """
        reader = TableReader(self._transport, run_path(*self.path))
        if step is None:
            value = self.summary.get(key)
        else:
            found = self.scan_history([key], min_step=step, max_step=step)
            value = next((row.get(key) for row in found), None)
        ident = table_id_of(value, key)
        return reader.frame(ident, order, filters or (), limit, pandas)

    # ---- files and artifacts (lodestar.artifacts.public) -------------------

    def files(self) -> list[Any]:
        """The run's stored files (latest content of each name)."""
        from ..artifacts import public

        return public.run_files(self)

    def file(self, name: str) -> Any:
        """The run's file `name`; ``.download(root, replace)``, ``.delete()``."""
        from ..artifacts import public

        return public.run_file(self, name)

    def upload_file(self, path: str, root: str = ".") -> Any:
        """Store a local file in this run, named by its path from `root`."""
        from ..artifacts import public

        return public.upload_file(self, path, root)

    def logged_artifacts(self) -> list[Any]:
        from ..artifacts import public

        return public.run_artifacts(self, used=False)

    def used_artifacts(self) -> list[Any]:
        from ..artifacts import public

        return public.run_artifacts(self, used=True)


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
        order: str = "+created_at", filters: dict[str, Any] | None = None,
    ) -> None:
        self._transport = transport
        self._url = "/api/v1/search/" + run_path(entity, project)[len("/api/v1/"):]
        self._per_page = per_page
        self._order = order
        self._filters = filters
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
        page = self._transport.post(self._url, {
            "filters": self._filters, "order": self._order,
            "limit": self._per_page, "offset": len(self._loaded),
        })
        self._total = page["total"]
        self._loaded += [Run(self._transport, data) for data in page["runs"]]
        return bool(page["runs"])

    def to_pandas(self) -> Any:
        """Every run's fields, config (``config.k``) and summary
        (``summary.k``) as one DataFrame, one row per run."""
        return runs_frame(list(self))

    def to_csv(self, path: str) -> int:
        """Write what `to_pandas` holds as CSV; returns the number of runs."""
        return write_csv(list(self), path)
