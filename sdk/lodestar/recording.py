"""What a run records without being asked: code, console and system metrics.

`start_recording` is called by ``init()`` once the run and its writer thread
exist. The system sampler and the console recorder are polled by the writer
thread (they add no thread of their own; console capture in ``redirect`` mode
adds the one reader thread); `Recording.stop` runs at the start of
``finish()``, while the run still takes events: it takes a last sample, puts
the streams back, queues the last console lines and stages ``output.log``.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import code_capture, console, files, jupyter
from .errors import LodestarError
from .settings import Settings
from .system_metrics import SystemSampler

if TYPE_CHECKING:
    from ._run import Run
    from .writer import RunWriter

logger = logging.getLogger(__name__)

OUTPUT_LOG = "output.log"

_capturing: list[Recording] = []  # console capture is one per process


class Recording:
    """The recorders of one run, polled by its writer thread."""

    def __init__(self, run: Run) -> None:
        self._run = run
        self.sampler: SystemSampler | None = None
        self.recorder: console.ConsoleRecorder | None = None
        self._capture: console.RedirectCapture | console.WrapCapture | None = None
        self.mode = "off"
        self._stopped = False

    def start_console(self, mode: str) -> None:
        if mode == "off" or _capturing:
            return
        self.recorder = console.ConsoleRecorder(Path(self._run.dir) / OUTPUT_LOG)
        kind = console.RedirectCapture if mode == "redirect" else console.WrapCapture
        capture = kind(self.recorder)
        capture.start()
        self._capture, self.mode = capture, mode
        _capturing.append(self)

    def start_sampler(self, interval: float) -> None:
        self.sampler = SystemSampler(interval, os.getpid(), self._run.run_dir)

    def poll(self, now: float) -> list[tuple[str, Any]]:
        """Events due now; called by the writer thread, never raises."""
        found: list[tuple[str, Any]] = []
        if self._stopped:
            return found
        for source in (self.sampler, self.recorder):
            if source is None:
                continue
            try:
                found.extend(source.poll(now))
            except Exception:  # noqa: BLE001 - the writer thread must go on
                logger.exception("recording %s failed", type(source).__name__)
        return found

    def stop(self) -> None:
        """Last sample, streams back, last lines, ``output.log`` staged."""
        run = self._run
        self._stopped = True
        if self.sampler is not None:
            run._record_event("system", self.sampler.event())
            self.sampler.close()
        if self._capture is not None:
            self._capture.stop()
            _capturing.remove(self)
            self._capture = None
        if self.recorder is not None:
            self._stop_console(run, self.recorder)

    def _stop_console(self, run: Run, recorder: console.ConsoleRecorder) -> None:
        body = recorder.drain()
        if body is not None:
            run._record_event("console", body)
        if recorder.lines_written:
            files.stage_file(run, OUTPUT_LOG)


def start_recording(run: Run, writer: RunWriter, settings: Settings) -> Recording:
    """Start the recorders `settings` ask for; faults become warnings."""
    recording = Recording(run)
    started = time.monotonic()
    _guarded("code", lambda: code_capture.capture(run, settings))
    if settings.system_metrics and settings.system_metrics_interval > 0:
        _guarded("system metrics",
                 lambda: recording.start_sampler(settings.system_metrics_interval))
    _guarded("console output",
             lambda: recording.start_console(console.resolve_mode(settings.console)))
    writer.tickers.append(recording.poll)
    run._before_finish.append(lambda: _guarded("the end", recording.stop))
    if jupyter.in_kernel():
        jupyter.show_run(run)
    logger.debug("recording started in %.3fs", time.monotonic() - started)
    return recording


def _guarded(what: str, action) -> None:
    try:
        action()
    except (OSError, LodestarError, ValueError) as exc:
        logger.warning("lodestar cannot record %s: %s", what, exc)
