"""Prometheus text for the query service (and the writer it may host)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request, Response


class RequestCounter:
    """Requests served, by status class."""

    def __init__(self) -> None:
        self.by_status: Counter[str] = Counter()

    async def middleware(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        self.by_status[f"{response.status_code // 100}xx"] += 1
        return response


def render_metrics(requests: RequestCounter, writer: Any) -> str:
    lines = [
        "# HELP lodestar_query_requests_total HTTP requests served.",
        "# TYPE lodestar_query_requests_total counter",
    ]
    for status, count in sorted(requests.by_status.items()):
        lines.append(f'lodestar_query_requests_total{{status="{status}"}} {count}')
    if writer is not None:
        lines += _writer_lines(writer.stats)
    return "\n".join(lines) + "\n"


def _writer_lines(stats: Any) -> list[str]:
    counters = {
        "lodestar_writer_messages_total": stats.messages,
        "lodestar_writer_events_total": stats.events,
        "lodestar_writer_rows_total": stats.rows,
        "lodestar_writer_dead_letters_total": stats.dead_letters,
        "lodestar_writer_insert_seconds_total": round(stats.insert_seconds, 6),
    }
    lines = []
    for name, value in counters.items():
        lines += [f"# TYPE {name} counter", f"{name} {value}"]
    lines += ["# TYPE lodestar_writer_applied_stream_seq gauge",
              f"lodestar_writer_applied_stream_seq {stats.applied_stream_seq}"]
    return lines
