"""One open stream: one WAL of one run, from the resume decision to the last ack.

Order of work for a batch: drop the events this WAL already had published
(a replay), validate the rest value by value, publish what is left, record the
WAL's progress in the registry, and only then acknowledge. An agent that
reconnects after any failure in between sends the same events again; JetStream
drops a repeated message id and the writer drops a repeated event id.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass
from urllib.parse import quote

from lodestar._proto import events_pb2, ingest_pb2

from ..common import bus
from ..common.accounts import Principal
from ..common.names import InvalidName, check_free_name
from .errors import StreamRefused
from .heartbeats import Heartbeats
from .liveness import Liveness, RunIds
from .metrics import Metrics
from .publisher import Publisher
from .registry import Registry, RunRecord, Versioned
from .validate import Rejected, validate

logger = logging.getLogger(__name__)

RESUME = events_pb2.ResumeMode
STATE = events_pb2.RunState
HEARTBEAT_EVENT_EVERY_S = 60.0
_REWIND = re.compile(r"^(?P<run>.+)\?_step=(?P<step>-?[0-9]+)$")


@dataclass(frozen=True)
class IngestContext:
    """What every stream of one ingest process shares."""

    registry: Registry
    publisher: Publisher
    heartbeats: Heartbeats
    metrics: Metrics
    public_url: str
    liveness: Liveness | None = None
    busy_window_s: float = 75.0     # a heartbeat younger than this: alive


@dataclass(frozen=True)
class RunRef:
    entity: str
    project: str
    run_id: str

    @property
    def key(self) -> str:
        return bus.run_key(self.entity, self.project, self.run_id)

    @property
    def subject(self) -> str:
        return bus.event_subject("ingest", self.entity, self.project, self.run_id)


class RunSession:
    """The server side of one agent's stream, after it opened."""

    def __init__(
        self, ctx: IngestContext, run: RunRef, wal_id: str, user: str, known: Versioned
    ) -> None:
        self._ctx = ctx
        self.run = run
        self.wal_id = wal_id
        self.user = user
        self._known = known
        self._heartbeat_event_at = time.monotonic()

    @classmethod
    async def open(
        cls, ctx: IngestContext, principal: Principal, entity: str,
        request: ingest_pb2.StreamOpen,
    ) -> tuple[RunSession, ingest_pb2.Opened]:
        """Decide the resume question for this WAL atomically and open."""
        header = request.header
        run = RunRef(entity, _checked("project", header.project),
                     _checked("run", header.run_id))
        if not re.fullmatch(r"[0-9a-f]{32}", header.wal_id):
            raise StreamRefused(
                "invalid", f"wal_id {header.wal_id!r} is not 32 hex digits"
            )
        decision = _OpenDecision(run, header.wal_id, request.run_start, principal.user)
        age = await ctx.heartbeats.age(run.key)
        decision.busy = age is not None and age < ctx.busy_window_s
        known = await ctx.registry.change(run.key, decision)
        session = cls(ctx, run, header.wal_id, principal.user, known)
        if decision.rewound is not None:
            await session._publish_rewind(*decision.rewound)
        await ctx.heartbeats.beat(run.key)
        await session._alive()
        return session, session._opened()

    def _opened(self) -> ingest_pb2.Opened:
        record = self._record
        return ingest_pb2.Opened(
            entity=self.run.entity,
            epoch=record.epoch,
            next_step=max(record.max_step + 1, 0),
            resumed=record.origin_wal != self.wal_id,
            config_json=json.dumps(record.config),
            summary_json=json.dumps(record.summary),
            acked_seq=record.wals.get(self.wal_id, 0),
            run_url=self._run_url(),
        )

    @property
    def _record(self) -> RunRecord:
        if self._known.record is None:
            raise StreamRefused("run_not_found", f"run {self.run.run_id!r} was deleted")
        return self._known.record

    def _run_url(self) -> str:
        parts = (self.run.entity, self.run.project, "runs", self.run.run_id)
        return self._ctx.public_url.rstrip("/") + "/" + "/".join(
            quote(p, safe="") for p in parts
        )

    async def batch(
        self, batch: ingest_pb2.EventBatch
    ) -> list[ingest_pb2.ServerMessage]:
        """Publish a batch; the replies are its rejections, then its ack."""
        self._ctx.metrics.add("batches_total")
        events = list(batch.events)
        if not events:
            return [_ack(self._acked)]
        _check_consecutive(events)
        fresh = self._unpublished(events)
        replies: list[ingest_pb2.ServerMessage] = []
        if fresh:
            kept = self._validated(fresh, replies)
            if kept:
                await self._ctx.publisher.publish_events(
                    self.run.subject, self._envelope(), kept
                )
            self._known = await self._ctx.registry.change(
                self.run.key, _progress(self.wal_id, fresh), self._known
            )
        replies.append(_ack(events[-1].seq))
        return replies

    @property
    def _acked(self) -> int:
        return self._record.wals.get(self.wal_id, 0)

    def _unpublished(self, events: list[events_pb2.Event]) -> list[events_pb2.Event]:
        done = self._acked
        fresh = [event for event in events if event.seq > done]
        self._ctx.metrics.add("events_replayed_total", len(events) - len(fresh))
        if fresh and fresh[0].seq != done + 1:
            raise StreamRefused(
                "invalid",
                f"events {done + 1} to {fresh[0].seq - 1} of WAL {self.wal_id} were "
                f"never sent; resend from {done + 1}",
            )
        return fresh

    def _validated(
        self, events: list[events_pb2.Event], replies: list[ingest_pb2.ServerMessage]
    ) -> list[events_pb2.Event]:
        kept = []
        limit = self._ctx.publisher.max_event_bytes
        for event in events:
            ok, rejected = validate(event)
            if ok and event.ByteSize() > limit:
                ok = False
                rejected.append(Rejected(
                    event.seq, "", f"the event is {event.ByteSize()} bytes; the "
                    f"stream takes at most {limit} bytes per event",
                ))
            if ok:
                kept.append(event)
            replies.extend(_rejection(r) for r in rejected)
            self._ctx.metrics.add("values_rejected_total", len(rejected))
        if replies:
            logger.info("run %s: %d values rejected", self.run.key, len(replies))
        return kept

    def _envelope(self, publisher_id: str | None = None) -> events_pb2.PublishedBatch:
        return events_pb2.PublishedBatch(
            entity=self.run.entity,
            project=self.run.project,
            run_id=self.run.run_id,
            publisher_id=publisher_id or self.wal_id,
            epoch=self._record.epoch,
            user=self.user,
        )

    async def heartbeat(self, sent_at: float) -> None:
        """Record the heartbeat; at most once a minute it also becomes an event."""
        now = time.time()
        await self._ctx.heartbeats.beat(self.run.key, now)
        await self._alive()
        if time.monotonic() - self._heartbeat_event_at < HEARTBEAT_EVENT_EVERY_S:
            return
        self._heartbeat_event_at = time.monotonic()
        lifecycle = events_pb2.Lifecycle(epoch=self._record.epoch, heartbeat_at=now)
        await self._publish_own(lifecycle)

    async def _alive(self) -> None:
        """A sign of life; a run marked silent goes back to running."""
        liveness = self._ctx.liveness
        if liveness is None:
            return
        ids = RunIds(self.run.entity, self.run.project, self.run.run_id)
        if await liveness.alive(ids) and await liveness.revive(ids) is not None:
            self._known = await self._ctx.registry.read(self.run.key)

    async def process_exit(
        self, report: ingest_pb2.ProcessExit
    ) -> ingest_pb2.ServerMessage:
        """The training process ended without a Finish: mark the run crashed.

        Published first, recorded second: a failure in between publishes the
        lifecycle event again on the retry, which is harmless, where the other
        order could lose it.
        """
        self._known = await self._ctx.registry.read(self.run.key)
        if self._record.state not in ("running", "unreachable"):
            return _ack(self._acked)
        state = report.state or STATE.CRASHED
        if self._record.preempting and state == STATE.CRASHED:
            state = STATE.PREEMPTED
        lifecycle = events_pb2.Lifecycle(
            state=state, reason=report.reason or "the process ended without finish()",
            epoch=self._record.epoch,
        )
        await self._publish_own(lifecycle, report.at or None)
        self._known = await self._ctx.registry.change(
            self.run.key, _ended(STATE.Name(state).lower()), self._known
        )
        self._ctx.metrics.add("crashes_reported_total")
        logger.info(
            "run %s: %s (%s)", self.run.key, STATE.Name(state), lifecycle.reason
        )
        return _ack(self._acked)

    async def _publish_own(
        self, lifecycle: events_pb2.Lifecycle, at: float | None = None
    ) -> None:
        publisher = self._ctx.publisher
        envelope = self._envelope(publisher.publisher_id)
        await publisher.publish_lifecycle(self.run.subject, envelope, lifecycle, at)

    async def _publish_rewind(self, previous_epoch: int, step: int) -> None:
        lifecycle = events_pb2.Lifecycle(
            state=STATE.RUNNING, reason="rewind", epoch=self._record.epoch,
            rewind_step=step, previous_epoch=previous_epoch,
        )
        await self._publish_own(lifecycle)


class _OpenDecision:
    """The registry change that opens a WAL: create, resume, rewind or refuse."""

    def __init__(
        self, run: RunRef, wal_id: str, start: events_pb2.RunStart, user: str
    ) -> None:
        self.run = run
        self.wal_id = wal_id
        self.start = start
        self.user = user
        self.rewound: tuple[int, int] | None = None
        self.busy = False  # another process's heartbeat is recent

    def __call__(self, record: RunRecord | None) -> RunRecord | None:
        self.rewound = None
        if record is not None and self.wal_id in record.wals:
            return None  # the same WAL again: a reconnect or a sync
        if record is None:
            return self._create()
        if self.start.resume == RESUME.RESUME_NEVER:
            raise StreamRefused(
                "run_exists",
                f"run {self.run.run_id!r} already exists in {self.run.entity}/"
                f"{self.run.project}; pass resume='allow' to continue it, or a new id",
            )
        if record.state == "running" and self.busy:
            # two processes writing one run would overwrite each other's steps
            raise StreamRefused(
                "run_active",
                f"run {self.run.run_id!r} is being logged by another process; "
                "resume it once that process has finished, or use a new id",
            )
        record.wals[self.wal_id] = 0
        record.state = "running"
        record.state_reason = ""
        record.preempting = False
        if self.start.resume_from:
            self._rewind(record)
        return record

    def _create(self) -> RunRecord:
        if self.start.resume == RESUME.RESUME_MUST:
            raise StreamRefused(
                "run_not_found",
                f"run {self.run.run_id!r} does not exist in {self.run.entity}/"
                f"{self.run.project}; resume='must' needs an existing run",
            )
        return RunRecord(
            created_at=time.time(), user=self.user, name=self.start.name,
            origin_wal=self.wal_id, wals={self.wal_id: 0},
            max_step=self._fork_step(),
        )

    def _fork_step(self) -> int:
        """-1, or the step a fork shares its parent's history up to."""
        if not self.start.fork_from:
            return -1
        match = _REWIND.match(self.start.fork_from)
        if match is None or match["run"] == self.run.run_id:
            raise StreamRefused(
                "invalid",
                f"fork_from {self.start.fork_from!r} must be '<other run>?_step=N'",
            )
        return int(match["step"])

    def _rewind(self, record: RunRecord) -> None:
        match = _REWIND.match(self.start.resume_from)
        if match is None or match["run"] != self.run.run_id:
            raise StreamRefused(
                "invalid",
                f"resume_from {self.start.resume_from!r} must be "
                f"'{self.run.run_id}?_step=N' for this run",
            )
        step = int(match["step"])
        self.rewound = (record.epoch, step)
        record.epoch += 1
        record.max_step = step


def _progress(wal_id: str, events: list[events_pb2.Event]):
    """The registry change after `events` of `wal_id` were published."""
    last = events[-1].seq

    def change(record: RunRecord | None) -> RunRecord | None:
        if record is None:
            raise StreamRefused("run_not_found", "the run was deleted while streaming")
        record.wals[wal_id] = max(record.wals.get(wal_id, 0), last)
        for event in events:
            _apply(record, event)
        return record

    return change


def _apply(record: RunRecord, event: events_pb2.Event) -> None:
    kind = event.WhichOneof("body")
    if kind == "history" and event.history.steps:
        record.max_step = max(record.max_step, max(event.history.steps))
    elif kind == "run_start":
        record.config.update(_loads(event.run_start.config_json))
        record.name = event.run_start.name or record.name
    elif kind == "config":
        _merge(record.config, event.config.set_json, event.config.remove)
    elif kind == "summary":
        _merge(record.summary, event.summary.set_json, event.summary.remove)
    elif kind == "finish":
        record.state = _finish_state(event.finish)
    elif kind == "preempting":
        record.preempting = True


def _finish_state(finish: events_pb2.Finish) -> str:
    if finish.state:
        return STATE.Name(finish.state).lower()
    return "finished" if finish.exit_code == 0 else "failed"


def _ended(state: str):
    def change(record: RunRecord | None) -> RunRecord | None:
        if record is None or record.state not in ("running", "unreachable"):
            return None
        record.state = state
        return record

    return change


def _merge(target: dict, set_json: str, remove) -> None:
    target.update(_loads(set_json))
    for key in remove:
        target.pop(key, None)


def _loads(text: str) -> dict:
    if not text:
        return {}
    value = json.loads(text)  # validated before it got here
    return value if isinstance(value, dict) else {}


def _checked(kind: str, value: str) -> str:
    try:
        return check_free_name(kind, value)
    except InvalidName as exc:
        raise StreamRefused("invalid", str(exc)) from exc


def _check_consecutive(events: list[events_pb2.Event]) -> None:
    first = events[0].seq
    for offset, event in enumerate(events):
        if event.seq != first + offset:
            raise StreamRefused(
                "invalid",
                f"a batch must hold consecutive sequence numbers; got {event.seq} "
                f"after {first + offset - 1}",
            )


def _ack(upto: int) -> ingest_pb2.ServerMessage:
    return ingest_pb2.ServerMessage(ack=ingest_pb2.Ack(upto_seq=upto))


def _rejection(rejected: Rejected) -> ingest_pb2.ServerMessage:
    return ingest_pb2.ServerMessage(rejection=ingest_pb2.Rejection(
        seq=rejected.seq, key=rejected.key, reason=rejected.reason,
    ))
