"""The `Run`: what ``lodestar.init()`` returns and what a script logs through.

Step rules of `Run.log`:

- Without ``step``, a committed call is stored at the current step and the
  step advances by one.
- ``commit=False`` merges the values into the current row, which is stored by
  the next committed call (or when the run finishes).
- With ``step=S`` the row is stored at once at S (unless ``commit=False``
  asks to hold it), even when S is lower than steps already used, and the
  automatic step continues after the highest step seen. A key logged again at
  a step where it is already stored replaces the value, with one warning.

Every row gets ``_step``, ``_runtime`` and ``_timestamp``, taken here, in the
caller's thread, when ``log()`` is called.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import warnings
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from . import history
from ._alerts import send_alert
from ._config import Config
from ._proto import events_pb2
from ._summary import MetricDefinition, Summary, parse_summary
from .agent_status import read_status
from .errors import LodestarWarning, UsageError
from .media import values as rich_values
from .run_dir import RunPaths
from .settings import Settings
from .writer import DEFINE, EVENT, FINISH, ROW, STOP, SYNC, RunWriter

logger = logging.getLogger(__name__)

QUEUE_LIMIT = 50_000
FULL_QUEUE_WAIT = 5.0
FULL_QUEUE_POLL = 0.005
SYNC_TIMEOUT = 5.0
SIGNAL_FLUSH_TIMEOUT = 2.0
JOIN_TIMEOUT = 5.0
ACK_POLL = 0.05
MAX_FAULT_WARNINGS = 20  # distinct mistakes shown per run; later ones are logged
_I64_MAX = 2**63 - 1
_time = time.time


@dataclass(frozen=True)
class RunInfo:
    """What a run is, decided once by ``init()``."""

    id: str
    project: str
    entity: str = ""
    name: str = ""
    group: str = ""
    job_type: str = ""
    tags: tuple[str, ...] = ()
    notes: str = ""
    mode: str = "online"
    paths: RunPaths | None = None
    settings: Settings = field(default_factory=Settings)
    started_at: float = 0.0
    resumed: bool = False
    url: str = ""
    runtime_before: float = 0.0  # seconds a resumed run had already run


class Run:
    """One tracked run. Safe to use from the thread that created it."""

    def __init__(
        self,
        info: RunInfo,
        config: Config,
        summary: Summary,
        writer: RunWriter | None = None,
        start_step: int = 0,
    ) -> None:
        self._info = info
        self.config = config
        self.summary = summary
        self._writer = writer
        self._queue: deque[tuple] = writer.queue if writer else deque()
        self._queue_limit = QUEUE_LIMIT
        self._full_queue_wait = FULL_QUEUE_WAIT
        self._step = start_step
        self._pending: list[Any] | None = None  # [step, row, time]
        # log() from several threads: each row gets its own step, and rows
        # reach the queue in step order. Re-entrant, for a signal handler that
        # flushes while the main thread is inside log().
        self._log_lock = threading.RLock()
        self._start = info.started_at
        self._runtime_zero = info.started_at - info.runtime_before
        self._pid = os.getpid()
        self._inactive = writer is None
        self._inactive_reason = "disabled" if writer is None else ""
        self._finished = False
        self._signal = ""
        self._preempting = False
        self._dropping = False
        self._warned: set[Any] = set()
        self._faults_shown = 0
        self._key_replaced = self._warn_key_replaced  # bound once: log() is hot
        self._on_finish: Callable[[Run], None] | None = None
        self._file_watcher: Any = None  # lodestar.file_watch.FileWatcher
        self._log_handler: logging.Handler | None = None
        self._media: Any = None  # the RunSink of media files and tables
        self._before_finish: list[Callable[[], None]] = []  # while still active

    # ---- what the run is ---------------------------------------------------

    @property
    def id(self) -> str:
        return self._info.id

    @property
    def name(self) -> str:
        return self._info.name or self._info.id

    @property
    def project(self) -> str:
        return self._info.project

    @property
    def entity(self) -> str:
        return self._info.entity

    @property
    def group(self) -> str:
        return self._info.group

    @property
    def job_type(self) -> str:
        return self._info.job_type

    @property
    def tags(self) -> tuple[str, ...]:
        return self._info.tags

    @property
    def notes(self) -> str:
        return self._info.notes

    @property
    def mode(self) -> str:
        return self._info.mode

    @property
    def offline(self) -> bool:
        return self._info.mode == "offline"

    @property
    def disabled(self) -> bool:
        return self._info.mode == "disabled"

    @property
    def resumed(self) -> bool:
        return self._info.resumed

    @property
    def url(self) -> str:
        return self._info.url

    @property
    def path(self) -> str:
        """``entity/project/run_id``."""
        return "/".join((self._info.entity, self._info.project, self._info.id))

    @property
    def run_dir(self) -> str:
        """The run directory (WAL, files, logs); empty when disabled."""
        paths = self._info.paths
        return str(paths.path) if paths else ""

    @property
    def dir(self) -> str:
        """The run's ``files/`` directory."""
        paths = self._info.paths
        return str(paths.files) if paths else ""

    @property
    def step(self) -> int:
        """The step the next committed ``log()`` without ``step=`` uses."""
        return self._pending[0] if self._pending else self._step

    @property
    def start_time(self) -> float:
        return self._start

    def __repr__(self) -> str:
        return f"<Run {self.path} ({self._info.mode})>"

    # ---- logging -----------------------------------------------------------

    def log(
        self, data: Mapping[str, Any], step: int | None = None, commit: bool = True
    ) -> None:
        """Record one row of values; see the module docstring for the steps."""
        if self._inactive:
            self._log_while_inactive()
            return
        try:
            row = history.copy_row(data, self._key_replaced)
            if rich_values.has_rich(row):
                sink = rich_values.run_sink(self)
                row = rich_values.encode_row(sink, row, self._step_of(step))
            with self._log_lock:
                now = _time()
                if step is None and commit is True and self._pending is None:
                    current = self._step
                    self._step = current + 1
                    self._put((ROW, current, now, now - self._runtime_zero, row))
                else:
                    self._log_held(row, step, commit, now)
        except Exception as exc:  # noqa: BLE001 - training must go on
            self._fault(exc)

    def _step_of(self, step: Any) -> int:
        """The step a row logged with `step` goes to (names media files)."""
        return self.step if step is None else _check_step(step)

    def _log_held(self, row: dict, step: Any, commit: bool, now: float) -> None:
        pending = self._pending
        if step is None:
            target = pending[0] if pending else self._step
        else:
            target = _check_step(step)
            if pending is not None and pending[0] != target:
                self._commit_pending()
                pending = None
        if pending is None:
            pending = self._pending = [target, row, now]
        else:
            pending[1].update(row)
            pending[2] = now
        if commit is not False:
            self._commit_pending()

    def _commit_pending(self) -> None:
        pending, self._pending = self._pending, None
        if pending is None:
            return
        step, row, now = pending
        if step >= self._step:
            self._step = step + 1
        self._put((ROW, step, now, now - self._runtime_zero, row))

    def _put(self, item: tuple) -> None:
        queue = self._queue
        if len(queue) < self._queue_limit:
            queue.append(item)
        else:
            self._put_full(item)

    def _put_full(self, item: tuple) -> None:
        # wait for the writer to catch up a good part of the way, in long
        # sleeps: every wake-up takes the interpreter lock from the writer
        queue = self._queue
        if not self._dropping:
            deadline = time.monotonic() + self._full_queue_wait
            resume_at = self._queue_limit * 3 // 4
            while time.monotonic() < deadline:
                time.sleep(FULL_QUEUE_POLL)
                if len(queue) <= resume_at:
                    queue.append(item)
                    return
            self._dropping = True
            self._warn_once(
                "queue-full",
                f"lodestar cannot write values as fast as they are logged (the "
                f"disk of {self.run_dir} is too slow); values are dropped until "
                "it catches up",
            )
        if len(queue) < self._queue_limit // 2:
            self._dropping = False
            queue.append(item)

    def define_metric(
        self,
        name: str,
        step_metric: str | None = None,
        summary: str | None = None,
    ) -> MetricDefinition:
        """Say how a metric (or a glob of them) is summarised and charted.

        Raises:
            UsageError: `name` is empty or `summary` names an unknown aggregate.
        """
        if not isinstance(name, str) or not name:
            raise UsageError(f"define_metric needs a metric name or glob, not {name!r}")
        definition = MetricDefinition(name, step_metric or "", parse_summary(summary))
        if not self._inactive:
            self._put((DEFINE, definition))
        return definition

    def alert(
        self, title: str, text: str = "", level: Any = "INFO",
        wait_duration: Any = None,
    ) -> None:
        """Send an alert (see `lodestar._alerts`); it never stops training."""
        try:
            send_alert(self, title, text, level, wait_duration)
        except Exception as exc:  # noqa: BLE001 - training must go on
            self._fault(exc)

    def _record_event(self, body: str, message: Any) -> bool:
        """Queue one event (`body` names its field of `Event`); False if inactive."""
        if self._inactive:
            return False
        self._put((EVENT, body, message))
        return True

    def mark_preempting(self, reason: str = "") -> None:
        """Say the process is about to be preempted (a scheduler's notice).

        The run then ends ``preempted`` rather than ``killed`` or ``crashed``
        when a signal, a non-zero exit or the process's death follows.
        """
        self._preempting = True
        if self._record_event("preempting", events_pb2.Preempting(reason=reason)):
            self._flush(to_disk=True, timeout=SIGNAL_FLUSH_TIMEOUT)

    def _end_state(self, state: int, code: int) -> int:
        """PREEMPTED for an abnormal end after `mark_preempting`."""
        abnormal = code != 0 or self._signal or state == events_pb2.KILLED
        return events_pb2.PREEMPTED if self._preempting and abnormal else state

    # ---- files and artifacts (lodestar.run_files, lodestar.artifacts) -------

    def save(
        self, glob_str: Any, base_path: str | None = None, policy: str = "live"
    ) -> list[str]:
        """Upload files matching `glob_str`, now and later; see `file_watch`."""
        from .run_files import save

        return save(self, glob_str, base_path, policy)

    def restore(
        self, name: str, run_path: str | None = None, replace: bool = False,
        root: str | None = None,
    ) -> Any:
        """Download a file of this run (or of `run_path`) and open it."""
        from .run_files import restore

        return restore(name, run_path, replace, root, self)

    def log_artifact(
        self, artifact: Any, name: str | None = None, type: str | None = None,
        aliases: list[str] | None = None,
    ) -> Any:
        """Log `artifact` (or a path) as the next version of its name."""
        from .artifacts.usage import log_artifact

        return log_artifact(self, artifact, name, type, aliases)

    def use_artifact(self, artifact: Any, type: str | None = None) -> Any:
        """Record that this run uses an artifact (``name:alias``); returns it."""
        from .artifacts.usage import use_artifact

        return use_artifact(self, artifact, type)

    # ---- finishing ---------------------------------------------------------

    def finish(self, exit_code: int | None = None, quiet: bool | None = None) -> None:
        """End the run: write a Finish event and wait for the platform's ack.

        Returns once ingest has acknowledged every event, or when the platform
        refused the run, or after ``finish_timeout`` seconds; the agent then
        carries on in the background.
        """
        code = 0 if exit_code is None else int(exit_code)
        state = events_pb2.FINISHED if code == 0 else events_pb2.FAILED
        reason = f"after {self._signal}" if self._signal else ""
        self._finish(code, state, reason, wait=True, quiet=bool(quiet))

    def _finish(
        self, code: int, state: int, reason: str, wait: bool, quiet: bool
    ) -> None:
        if self._finished or self._pid != os.getpid():
            return
        self._finished = True
        state = self._end_state(state, code)
        try:
            self._close(code, state, reason, wait, quiet)
        except Exception as exc:  # noqa: BLE001 - training must go on
            self._fault(exc)
        finally:
            self._inactive = True
            self._inactive_reason = "finished"
            self._detach_log_file()
            if self._on_finish is not None:
                self._on_finish(self)

    def _detach_log_file(self) -> None:
        handler, self._log_handler = self._log_handler, None
        if handler is not None:
            logging.getLogger("lodestar").removeHandler(handler)
            handler.close()

    def _close(
        self, code: int, state: int, reason: str, wait: bool, quiet: bool
    ) -> None:
        writer = self._writer
        if writer is None:
            return
        deadline = time.monotonic() + self._info.settings.finish_timeout
        try:
            for hook in self._before_finish:
                hook()
            self._commit_pending()
            self.config.push()
            self._inactive = True
            self._inactive_reason = "finished"
            done = threading.Event()
            finish = events_pb2.Finish(
                exit_code=code, state=cast(Any, state), reason=reason
            )
            self._queue.append((FINISH, finish, done))
            done.wait(max(0.0, deadline - time.monotonic()))
            if wait and writer.supervisor is not None:
                self._wait_acked(writer, deadline, quiet)
        finally:
            self._queue.append((STOP,))
            writer.join(JOIN_TIMEOUT)
            self.config._detach()
            self.summary._detach()

    def _wait_acked(self, writer: RunWriter, deadline: float, quiet: bool) -> None:
        paths = self._info.paths
        assert paths is not None and writer.supervisor is not None
        while time.monotonic() < deadline:
            status = read_status(paths.path)
            if writer.finish_seq and status.acked_seq >= writer.finish_seq:
                logger.info("run %s: every event is stored", self.id)
                return
            if status.error:
                return
            time.sleep(ACK_POLL)
        message = (
            f"the platform has not acknowledged every event of run {self.id} yet; "
            f"the agent (pid {writer.supervisor.pid}) carries on in the background "
            f"(log: {paths.agent_log})"
        )
        if quiet:
            logger.info("%s", message)
        else:
            self._warn_once("agent-background", message)

    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type, exc, tb) -> Literal[False]:
        if exc_type is None:
            self.finish()
        else:
            self._finish_from_exception(exc_type)
        return False

    def _finish_from_exception(self, exc_type: type[BaseException]) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            reason = self._signal or "KeyboardInterrupt"
            self._finish(130, events_pb2.KILLED, reason, wait=True, quiet=False)
        else:
            reason = f"exception: {exc_type.__name__}"
            self._finish(1, events_pb2.FAILED, reason, wait=True, quiet=False)

    # ---- process events ----------------------------------------------------

    def _record_signal(self, name: str) -> None:
        """A signal arrived: note it and get everything logged onto disk."""
        self._signal = name
        preempt = (self._info.settings.preempt_signals or "").replace(" ", "")
        if name in preempt.upper().split(","):
            self._preempting = True
        if self._inactive or self._pid != os.getpid():
            return
        self._commit_pending()
        self._flush(to_disk=True, timeout=SIGNAL_FLUSH_TIMEOUT)

    def _finish_killed(self, name: str, code: int) -> None:
        """The process is about to die of signal `name`: say so in the WAL."""
        self._finish(code, events_pb2.KILLED, name, wait=False, quiet=True)

    def _flush(self, to_disk: bool, timeout: float = SYNC_TIMEOUT) -> None:
        writer = self._writer
        if writer is None or self._pid != os.getpid() or not writer.alive:
            return
        done = threading.Event()
        self._queue.append((SYNC, done, to_disk))
        done.wait(timeout)

    def _after_fork_in_child(self) -> None:
        self._inactive = True
        self._inactive_reason = "fork"
        self._log_lock = threading.RLock()  # another thread may have held it
        self._writer = None
        self._queue = deque()
        self._pending = None
        self.summary._after_fork()
        self.config._detach()

    # ---- faults ------------------------------------------------------------

    def _log_while_inactive(self) -> None:
        reason = self._inactive_reason
        if reason == "fork":
            self._warn_once(
                "fork",
                f"log() was called in a process forked from the one running run "
                f"{self.id}; values logged here are dropped (call lodestar.init() "
                "in this process to track it as a run of its own)",
            )
        elif reason == "finished":
            self._warn_once(
                "finished", f"run {self.id} has finished; log() calls are ignored"
            )

    def _fault(self, exc: BaseException) -> None:
        """Warn about `exc` once per kind: its type and the line that raised it."""
        logger.debug("lodestar fault", exc_info=exc)
        tag = ("fault", type(exc).__name__, *_raised_at(exc))
        if tag in self._warned:
            return
        message = f"lodestar could not record values: {exc} (training goes on)"
        if self._faults_shown >= MAX_FAULT_WARNINGS:
            self._warned.add(tag)
            logger.info("%s", message)
            return
        self._faults_shown += 1
        if self._faults_shown == MAX_FAULT_WARNINGS:
            message += (f"; this is the {MAX_FAULT_WARNINGS}th distinct problem of "
                        "this run, later ones go to the log only")
        self._warn_once(tag, message)

    def _warn_key_replaced(self, key: str) -> None:
        self._warn_once(
            ("flattened-twice", key),
            f"log() data holds key {key!r} twice once nested dicts are flattened "
            "to dotted keys (as 'a.b' and as {'a': {'b': ...}}); the later one "
            "replaces the earlier (said once per key)",
            stacklevel=5,  # the caller of log(), through copy_row
        )

    def _warn_once(self, tag: Any, message: str, stacklevel: int = 4) -> None:
        if tag in self._warned:
            return
        self._warned.add(tag)
        logger.warning("%s", message)
        warnings.warn(message, LodestarWarning, stacklevel=stacklevel)


def _raised_at(exc: BaseException) -> tuple[str, int]:
    """The file and line where `exc` was raised."""
    tb = exc.__traceback__
    if tb is None:
        return "", 0
    while tb.tb_next is not None:
        tb = tb.tb_next
    return tb.tb_frame.f_code.co_filename, tb.tb_lineno


def _check_step(step: Any) -> int:
    """A step as a non-negative int64.

    Raises:
        UsageError: `step` is not a whole number from 0 to 2**63 - 1.
    """
    value = None
    if type(step) is int:
        value = step
    elif isinstance(step, float) and step.is_integer():
        value = int(step)
    elif not isinstance(step, bool) and hasattr(step, "__index__"):
        value = step.__index__()
    if value is None:
        raise UsageError(
            f"step={step!r} ({type(step).__name__}) is not a whole number; pass "
            "an int from 0 to 2**63-1"
        )
    if not 0 <= value <= _I64_MAX:
        raise UsageError(f"step={step!r} is outside 0 to 2**63-1; steps start at 0")
    return value
