"""Process-wide hooks: ``atexit``, ``sys.excepthook``, signals and ``fork``.

They are installed once per process, the first time ``init()`` runs, and act
on whatever run is current when they fire:

- ``atexit`` finishes a run the script forgot to finish;
- an unhandled exception marks the run failed (after the traceback prints);
- SIGTERM and SIGINT handlers (installed only from the main thread) record the
  signal and flush the WAL, then hand over to the handler that was there
  before, or to the signal's default action; they never exit on their own;
- in a forked child the run goes quiet: the child never writes the parent's
  WAL, and its ``atexit`` does nothing. Around each ``fork`` the signals get
  their earlier handlers back, so the child starts with them: CPython drops a
  signal that reaches a Python-level handler before the child has finished
  forking, and a worker that ``Pool.terminate()`` sends SIGTERM that early
  would otherwise never exit.
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any, NoReturn

logger = logging.getLogger(__name__)

HANDLED_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class ProcessHooks:
    """The hooks of this process, bound to a getter of the current run."""

    def __init__(self, current: Callable[[], Any], forked: Callable[[], None]) -> None:
        self._current = current
        self._forked = forked
        self._installed = False
        self._previous_handlers: dict[int, Any] = {}
        self._previous_excepthook = sys.excepthook
        self._previous_exit = sys.exit
        self._exit_code: int | None = None
        self._lent_back: list[int] = []

    def install(self) -> None:
        """Install what is not installed yet (signals need the main thread)."""
        if not self._installed:
            self._installed = True
            atexit.register(self._at_exit)
            self._previous_excepthook = sys.excepthook
            sys.excepthook = self._excepthook
            self._previous_exit = sys.exit
            sys.exit = self._exit  # type: ignore[assignment]
            os.register_at_fork(
                before=self._lend_back_signals,
                after_in_parent=self._take_signals_again,
                after_in_child=self._after_fork_in_child,
            )
        if threading.current_thread() is threading.main_thread():
            for signum in HANDLED_SIGNALS:
                self._install_signal(signum)

    def _lend_back_signals(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # only the main thread may set handlers
        for signum, previous in self._previous_handlers.items():
            if signal.getsignal(signum) == self._on_signal:
                signal.signal(signum, previous)
                self._lent_back.append(signum)

    def _take_signals_again(self) -> None:
        for signum in self._lent_back:
            signal.signal(signum, self._on_signal)
        self._lent_back.clear()

    def _after_fork_in_child(self) -> None:
        self._lent_back.clear()
        self._previous_handlers.clear()
        self._forked()

    def _install_signal(self, signum: int) -> None:
        if signum in self._previous_handlers:
            return
        try:
            previous = signal.signal(signum, self._on_signal)
        except (ValueError, OSError) as exc:
            logger.debug("cannot handle signal %s: %s", signum, exc)
            return
        self._previous_handlers[signum] = previous

    def _exit(self, status: str | int | None = None) -> NoReturn:
        # atexit cannot see the exit status, so sys.exit() notes it on its way:
        # a script that ends with sys.exit(1) has failed
        self._exit_code = _exit_code(status)
        self._previous_exit(status)

    def _at_exit(self) -> None:
        run = self._current()
        if run is not None:
            run.finish(exit_code=self._exit_code)

    def _excepthook(self, exc_type, exc, tb) -> None:
        try:
            self._previous_excepthook(exc_type, exc, tb)
        finally:
            run = self._current()
            if run is not None:
                run._finish_from_exception(exc_type)

    def _on_signal(self, signum: int, frame) -> None:
        name = signal.Signals(signum).name
        run = self._current()
        if run is not None:
            run._record_signal(name)
        previous = self._previous_handlers.get(signum)
        if callable(previous):
            previous(signum, frame)
            return
        if previous == signal.SIG_IGN:
            return
        if run is not None:
            run._finish_killed(name, 128 + signum)
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)


def _exit_code(status: str | int | None) -> int:
    """The process exit status that ``sys.exit(status)`` gives."""
    if status is None:
        return 0
    if isinstance(status, int):
        return status
    return 1  # a message is printed and the status is 1
