"""Ingest's counters, served as Prometheus text on ``/metrics``."""

from __future__ import annotations

from dataclasses import dataclass, field

_HELP = {
    "streams_opened_total": ("counter", "Streams authenticated and opened"),
    "streams_refused_total": ("counter", "Streams refused: auth, resume, invalid"),
    "streams_active": ("gauge", "Streams open now"),
    "batches_total": ("counter", "Event batches received"),
    "events_published_total": ("counter", "Events published to JetStream"),
    "events_replayed_total": ("counter", "Events received again and acknowledged"),
    "values_rejected_total": ("counter", "Values or events rejected by validation"),
    "messages_published_total": ("counter", "JetStream messages published"),
    "heartbeats_total": ("counter", "Heartbeats recorded"),
    "heartbeat_errors_total": ("counter", "Heartbeats Redis did not take"),
    "crashes_reported_total": ("counter", "Runs marked crashed from a process exit"),
}


@dataclass
class Metrics:
    """Named numbers; one instance per ingest process."""

    values: dict[str, float] = field(default_factory=lambda: dict.fromkeys(_HELP, 0))

    def add(self, name: str, amount: float = 1) -> None:
        self.values[name] += amount

    def render(self) -> str:
        """The Prometheus text exposition of every number."""
        lines = []
        for name, (kind, text) in _HELP.items():
            full = "lodestar_ingest_" + name
            lines += [f"# HELP {full} {text}", f"# TYPE {full} {kind}"]
            lines.append(f"{full} {self.values[name]:g}")
        return "\n".join(lines) + "\n"
