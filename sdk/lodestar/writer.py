"""The writer thread: the only code that touches a run's WAL.

``log()`` and the other calls of the script put tuples on a deque; this thread
drains it. For rows it validates each value (key 1-256 characters without
control characters and not one of the row's own fields, one value at most
1 MB, the scalars of one call at most 25 MB, a storable type), warns about
what it drops or repairs naming the key and the step, groups consecutive rows into
one columnar `HistoryBatch` (up to 1,000 rows or 50 ms), keeps the summary and
appends events to the WAL. It also watches the agent through its supervisor.

A deque is used rather than ``queue.Queue`` because ``append`` takes no
Python-level lock: it is the one thing ``log()`` must do, and it must be cheap.
The thread polls the deque and sleeps a few milliseconds when it is empty.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import warnings
from collections import deque
from collections.abc import Callable
from typing import Any

from . import history
from ._proto import events_pb2
from ._summary import MetricDefinition, Summary
from .errors import LodestarWarning
from .run_dir import RunPaths
from .steps import KeySteps
from .supervisor import AgentSupervisor
from .wal import WalWriter

logger = logging.getLogger(__name__)

# operations on the queue; the first item of each tuple
ROW, CONFIG, DEFINE, SYNC, FINISH, STOP, EVENT = range(7)

MAX_KEY = 256
MAX_VALUE_BYTES = 1 << 20
MAX_CALL_BYTES = 25 << 20
BATCH_ROWS = 1000
BATCH_AGE = 0.05
SUMMARY_INTERVAL = 1.0  # a crash loses at most this much of the summary
POLL_INTERVAL = 0.005
DRAIN_CHUNK = 2000
MAX_KNOWN_KEYS = 100_000  # keys already checked, so a row's usual keys are cheap
RESERVED_KEYS = frozenset({"_step", "_runtime", "_timestamp"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # the rule of ingest's key check
_SURROGATE = re.compile(r"[\ud800-\udfff]")
REPLACEMENT = "\ufffd"


class RunWriter:
    """Drains one run's queue into its WAL, in a daemon thread."""

    def __init__(
        self,
        wal: WalWriter,
        last_seq: int,
        summary: Summary,
        paths: RunPaths | None,
        supervisor: AgentSupervisor | None = None,
        config: dict[str, Any] | None = None,
    ) -> None:
        self.queue: deque[tuple] = deque()
        self.finish_seq = 0
        self._wal = wal
        self._seq = last_seq
        self._summary = summary
        self._paths = paths
        self.supervisor = supervisor
        # polled every iteration; each returns (Event body field, message) pairs
        self.tickers: list[Callable[[float], list[tuple[str, Any]]]] = []
        self._config = dict(config or {})
        self._batch = history.BatchBuilder()
        self._batch_started = 0.0
        self._steps = KeySteps()
        self._known_keys: set[str] = set()
        self._warned: set[Any] = set()
        self._last_summary = time.monotonic()
        self._stopping = False
        self._thread = threading.Thread(
            target=self._run, name="lodestar-writer", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float) -> bool:
        """Wait for the thread to end; True when it did."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def mute(self, tag: Any, muted: bool = True) -> None:
        """Stop (or start again) showing warnings of `tag`."""
        if muted:
            self._warned.add(tag)
        else:
            self._warned.discard(tag)

    def warn(self, tag: Any, message: str) -> None:
        """Show `message` as a `LodestarWarning` once per `tag`."""
        if tag in self._warned:
            logger.debug("%s", message)
            return
        self._warned.add(tag)
        logger.warning("%s", message)
        warnings.warn(message, LodestarWarning, stacklevel=2)

    # ---- the loop ----------------------------------------------------------

    def _run(self) -> None:
        while not self._stopping:
            try:
                busy = self._step()
            except Exception as exc:  # noqa: BLE001 - the thread must survive
                logger.exception("writer thread iteration failed")
                self.warn("writer-fault", f"lodestar could not record values: {exc}")
                busy = False
            if not busy and not self._stopping:
                time.sleep(POLL_INTERVAL)
        if self.supervisor is not None:
            # finish() stops the thread once the last ack is in: show what
            # that ack brought (a refused artifact) before finish() returns
            self.supervisor.read_report()
        self._wal.close()

    def _step(self) -> bool:
        busy = self._drain()
        now = time.monotonic()
        if self._batch and now - self._batch_started >= BATCH_AGE:
            self._flush_batch()
        if now - self._last_summary >= SUMMARY_INTERVAL:
            self._emit_summary()
        if self.supervisor is not None:
            self.supervisor.poll(now)
        for tick in self.tickers:
            for body, message in tick(now):
                self._append(**{body: message})
        return busy

    def _drain(self) -> bool:
        queue = self.queue
        handled = 0
        while queue and handled < DRAIN_CHUNK and not self._stopping:
            item = queue.popleft()
            handled += 1
            if item[0] == ROW:
                self._add_row(item[1], item[2], item[3], item[4])
            else:
                self._handle_op(item)
        return handled > 0

    def _handle_op(self, item: tuple) -> None:
        kind = item[0]
        if kind == SYNC and not item[2]:
            item[1].set()  # a reader only needs the rows taken in, not written
            return
        self._flush_batch()
        if kind == CONFIG:
            self._write_config(item[1], item[2])
        elif kind == DEFINE:
            self._write_define(item[1])
        elif kind == SYNC:
            self._sync(item[2])
            item[1].set()
        elif kind == FINISH:
            self._write_finish(item[1])
            item[2].set()
        elif kind == STOP:
            self._stopping = True
        elif kind == EVENT:
            self._append(**{item[1]: item[2]})  # (EVENT, body field, message)

    # ---- rows --------------------------------------------------------------

    def _add_row(self, step: int, timestamp: float, runtime: float, row: dict) -> None:
        values = self._validate(step, row)
        replaced = self._steps.record(step, values)
        for key in replaced:
            self.warn(
                ("replaced", key),
                f"key {key!r} was logged again at step {step}; the new value "
                "replaces the old one (said once per key)",
            )
        if self._batch.has_step(step):
            self._flush_batch()
        if not self._batch:
            self._batch_started = time.monotonic()
        self._batch.add(step, timestamp, runtime, values)
        meta = {"_step": step, "_runtime": runtime, "_timestamp": timestamp}
        self._summary.observe_row(meta, values)
        if len(self._batch) >= BATCH_ROWS:
            self._flush_batch()

    def _validate(self, step: int, row: dict) -> dict[str, history.Classified]:
        values: dict[str, history.Classified] = {}
        known = self._known_keys
        total = 0
        for key, value in row.items():
            if type(value) is float and key in known:
                values[key] = (history.FLOAT, value)  # the usual case, kept inline
                total += 8
                continue
            if type(key) is not str:
                key = str(key)
            if key not in known:
                key = self._check_key(key, step)
                if key is None:
                    continue
            total += self._classify_into(values, key, step, value)
        if total > MAX_CALL_BYTES:
            self._trim_call(step, values, total)
        return values

    def _check_key(self, key: str, step: int) -> str | None:
        """`key` as stored (surrogates replaced), or None when it is dropped."""
        if not 0 < len(key) <= MAX_KEY:
            self._warn_key(key, step)
            return None
        if key in RESERVED_KEYS:
            self._warn_reserved(key, step)
            return None
        if _CONTROL.search(key):
            self.warn(("control", key), f"key {key!r} at step {step} was dropped: "
                      "it holds a control character; use printable characters")
            return None
        if not key.isascii() and _SURROGATE.search(key):
            fixed = _SURROGATE.sub(REPLACEMENT, key)
            self.warn(("surrogate-key", key), f"key {key!r} at step {step} holds "
                      "an unpaired surrogate, which UTF-8 cannot store; it is "
                      f"stored as {fixed!r} (each surrogate replaced by U+FFFD)")
            return None if fixed in RESERVED_KEYS else fixed
        if len(self._known_keys) < MAX_KNOWN_KEYS:
            self._known_keys.add(key)
        return key

    def _classify_into(self, values: dict, key: str, step: int, value: Any) -> int:
        """Put the stored form of `value` in `values`; the bytes it takes."""
        try:
            kind, payload = history.classify(value)
        except history.Unserializable as exc:
            self._drop(key, step, str(exc))
            return 0
        except Exception as exc:  # noqa: BLE001 - a value's own methods failed
            self._drop(key, step, f"reading it raised {type(exc).__name__}: {exc}")
            return 0
        if kind == history.TEXT and not payload.isascii() and _SURROGATE.search(
            payload
        ):
            payload = _SURROGATE.sub(REPLACEMENT, payload)
            self.warn(("surrogate-value", key), f"the text of key {key!r} at step "
                      f"{step} holds an unpaired surrogate, which UTF-8 cannot "
                      "store; each one is stored as U+FFFD (said once per key)")
        size = history.payload_size(kind, payload)
        if size > MAX_VALUE_BYTES:
            self._drop(key, step, f"its value takes {_mb(size)}, over the 1 MB "
                       "limit for one value")
            return 0
        values[key] = (kind, payload)
        return size

    def _trim_call(self, step: int, values: dict, total: int) -> None:
        sizes = {k: history.payload_size(*v) for k, v in values.items()}
        for key in sorted(sizes, key=sizes.__getitem__, reverse=True):
            if total <= MAX_CALL_BYTES:
                return
            del values[key]
            total -= sizes[key]
            self._drop(key, step, "the values of one log() call are over the 25 MB "
                       "limit and this is the largest")

    def _warn_key(self, key: str, step: int) -> None:
        if not key:
            self.warn(("empty-key",), f"an empty key at step {step} was "
                      "dropped; keys are 1 to 256 characters")
            return
        self.warn(
            ("long-key", key),
            f"key {key[:40]!r}… ({len(key)} characters) at step {step} was "
            f"dropped; keys are at most {MAX_KEY} characters",
        )

    def _warn_reserved(self, key: str, step: int) -> None:
        hint = "pass step= to log() instead" if key == "_step" else "use another key"
        self.warn(("reserved", key), f"key {key!r} at step {step} was dropped: "
                  "_step, _runtime and _timestamp are set by lodestar for every "
                  f"row; {hint}")

    def _drop(self, key: str, step: int, reason: str) -> None:
        self.warn(("drop", key), f"key {key!r} at step {step} was dropped: {reason}")

    def _flush_batch(self) -> None:
        if not self._batch:
            return
        batch, self._batch = self._batch, history.BatchBuilder()
        built: events_pb2.HistoryBatch | None
        try:
            built = batch.build()
        except Exception as exc:  # noqa: BLE001 - one bad value must not cost a batch
            logger.debug("history batch did not build; retrying row by row",
                         exc_info=exc)
            built = self._build_rows(batch.rows())
        if built is not None:
            self._append(history=built)

    def _build_rows(
        self, rows: list[tuple[int, float, float, dict]]
    ) -> events_pb2.HistoryBatch | None:
        """A batch of `rows` without the values that cannot be encoded."""
        kept = history.BatchBuilder()
        for step, timestamp, runtime, values in rows:
            good = {key: value for key, value in values.items()
                    if self._encodes(step, key, value)}
            if good:
                kept.add(step, timestamp, runtime, good)
        return kept.build() if kept else None

    def _encodes(self, step: int, key: str, value: history.Classified) -> bool:
        one = history.BatchBuilder()
        one.add(step, 0.0, 0.0, {key: value})
        try:
            one.build()
        except Exception as exc:  # noqa: BLE001 - reported by key and step
            self._drop(key, step, f"it could not be encoded ({type(exc).__name__}: "
                       f"{exc})")
            return False
        return True

    # ---- other events ------------------------------------------------------

    def _append(self, **body: Any) -> int:
        seq = self._seq + 1
        event = events_pb2.Event(seq=seq, timestamp=time.time(), **body)
        self._wal.append([event])
        self._seq = seq  # only once written: sequence numbers have no gaps
        return seq

    def _write_config(self, changed: dict[str, Any], removed: list[str]) -> None:
        update = events_pb2.ConfigUpdate(set_json=_json(changed), remove=removed)
        self._append(config=update)
        self._config.update(changed)
        for key in removed:
            self._config.pop(key, None)
        self._write_config_file()

    def _write_define(self, definition: MetricDefinition) -> None:
        message = events_pb2.DefineMetric(
            name=definition.name,
            step_metric=definition.step_metric,
            summary=",".join(definition.summary),
        )
        self._append(define_metric=message)
        self._summary.define(definition)

    def _emit_summary(self) -> None:
        self._last_summary = time.monotonic()
        changes = self._summary.take_changes()
        if changes is None:
            return
        changed, removed = changes
        self._append(summary=events_pb2.SummaryUpdate(
            set_json=_json(changed), remove=removed
        ))

    def _sync(self, to_disk: bool) -> None:
        if to_disk:
            self._emit_summary()
            self._wal.sync()

    def _write_finish(self, finish: events_pb2.Finish) -> None:
        self._emit_summary()
        self._write_summary_file()
        self._write_config_file()
        if self._paths is not None:  # uploaded by the agent, like any run file
            for name in (self._paths.summary_json, self._paths.config_yaml):
                self._append(file=events_pb2.FileEntry(path=name.name))
        self.finish_seq = self._append(finish=finish)
        self._wal.sync()

    # ---- files -------------------------------------------------------------

    def _write_config_file(self) -> None:
        if self._paths is None:
            return
        import yaml  # only here: keeps ``import lodestar`` light

        text = yaml.safe_dump(self._config, sort_keys=False, allow_unicode=True)
        _replace(self._paths.config_yaml, text)

    def _write_summary_file(self) -> None:
        if self._paths is not None:
            _replace(self._paths.summary_json, _json(self._summary.snapshot()))


def _json(value: Any) -> str:
    # NaN and ±Infinity are written as JSON's common extension, not as null
    return json.dumps(value, separators=(",", ":"), default=str)


def _mb(size: int) -> str:
    return f"{size / (1 << 20):.1f} MB"


def _replace(path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)
