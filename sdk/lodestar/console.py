"""Console capture: the training process's stdout and stderr, kept as lines.

``LODESTAR_CONSOLE`` (setting ``console``) chooses how:

- ``redirect`` (what ``auto`` picks in a terminal or under a scheduler): file
  descriptors 1 and 2 are moved onto a pipe (a pseudo-terminal when the
  original was a terminal, so programs still see a terminal and keep their
  colours and progress bars). One reader thread, the only extra thread the
  SDK adds, passes every byte on to the original descriptor at once and
  keeps a copy. Output of C extensions and child processes is captured too.
- ``wrap`` (what ``auto`` picks in Jupyter, or where the streams have no file
  descriptor): ``sys.stdout`` and ``sys.stderr`` are replaced by objects that
  write through to the original streams and keep a copy. No thread.
- ``off``: nothing is captured.

The copy is read the way a terminal shows it: a carriage return moves back
to the start of the line and what follows overwrites it, so a progress bar
that redraws its line a thousand times is stored as the one line it ends as.
Escape sequences (colours, cursor moves) are left out of the stored lines.
The run's writer thread drains the finished lines every half second into a
`ConsoleOutput` event and appends them to ``files/output.log``.
"""

from __future__ import annotations

import codecs
import logging
import os
import re
import select
import sys
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any, TextIO

from ._proto import events_pb2
from .errors import UsageError

logger = logging.getLogger(__name__)

MODES = ("auto", "redirect", "wrap", "off")
MAX_LINE = 64 * 1024
DRAIN_INTERVAL = 0.5
STOP_TIMEOUT = 2.0
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?")
_CONTROL = re.compile(r"(\r|\n)")


class LineAssembler:
    """Turns a stream of written text into the lines a terminal would show."""

    def __init__(self) -> None:
        self._line = ""
        self._column = 0

    def feed(self, text: str) -> list[str]:
        """The lines that `text` completes, in order."""
        done: list[str] = []
        for part in _CONTROL.split(text):
            if part == "\n":
                done.append(self._take())
            elif part == "\r":
                self._column = 0
            elif part:
                self._overwrite(_ESCAPES.sub("", part))
                if len(self._line) >= MAX_LINE:
                    done.append(self._take())
        return done

    def flush(self) -> list[str]:
        """The unfinished line, if it holds anything but blanks."""
        line = self._take()
        return [line] if line else []

    def _overwrite(self, text: str) -> None:
        line, column = self._line, self._column
        self._line = line[:column] + text + line[column + len(text):]
        self._column = column + len(text)

    def _take(self) -> str:
        line, self._line, self._column = self._line, "", 0
        return line.rstrip()


class ConsoleRecorder:
    """Finished lines of both streams, waiting for the writer to drain them."""

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self.lines_written = 0
        self._streams = (LineAssembler(), LineAssembler())
        self._pending: deque[events_pb2.ConsoleLine] = deque()
        self._lock = threading.Lock()
        self._drain_lock = threading.Lock()
        self._next_drain = 0.0
        self._closed = False

    def feed(self, text: str, stderr: bool) -> None:
        """Take text written to stdout (or stderr); safe from any thread."""
        with self._lock:
            if self._closed:
                return
            lines = self._streams[stderr].feed(text)
            self._queue(lines, stderr)

    def close(self) -> None:
        """Keep the unfinished lines and take no more text."""
        with self._lock:
            self._closed = True
            for stderr in (False, True):
                self._queue(self._streams[stderr].flush(), stderr)

    def _queue(self, lines: list[str], stderr: bool) -> None:
        if lines:
            now = time.time()
            for text in lines:
                self._pending.append(
                    events_pb2.ConsoleLine(timestamp=now, stderr=stderr, text=text)
                )

    def poll(self, now: float) -> list[tuple[str, Any]]:
        """The writer's tick: a `ConsoleOutput` every `DRAIN_INTERVAL`."""
        if now < self._next_drain:
            return []
        self._next_drain = now + DRAIN_INTERVAL
        body = self.drain()
        return [("console", body)] if body is not None else []

    def drain(self) -> events_pb2.ConsoleOutput | None:
        """The lines finished so far, also appended to ``output.log``."""
        with self._drain_lock:
            lines: list[events_pb2.ConsoleLine] = []
            while self._pending:
                lines.append(self._pending.popleft())
            if not lines:
                return None
            self._append_log(lines)
            return events_pb2.ConsoleOutput(lines=lines)

    def _append_log(self, lines: list[events_pb2.ConsoleLine]) -> None:
        text = "".join(line.text + "\n" for line in lines)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "a", encoding="utf-8", errors="replace") as out:
            out.write(text)
        self.lines_written += len(lines)


# ---- choosing a mode ---------------------------------------------------------


def resolve_mode(mode: str) -> str:
    """The mode `mode` stands for here: ``redirect``, ``wrap`` or ``off``.

    Raises:
        UsageError: `mode` is not one of `MODES`.
    """
    text = (mode or "auto").strip().lower()
    if text not in MODES:
        raise UsageError(f"console={mode!r} is not one of {', '.join(MODES)}")
    if text != "auto":
        return text
    if in_notebook() or not _has_fds():
        return "wrap"
    return "redirect"


def in_notebook() -> bool:
    """True inside a Jupyter kernel."""
    shell = _ipython()
    return shell is not None and hasattr(shell, "kernel")


def _ipython() -> Any:
    if "IPython" not in sys.modules:
        return None
    from IPython import get_ipython

    return get_ipython()


def _has_fds() -> bool:
    try:
        return sys.stdout.fileno() == 1 and sys.stderr.fileno() == 2
    except (AttributeError, OSError, ValueError):
        return False


# ---- wrap --------------------------------------------------------------------


class _TeeStream:
    """A text stream that writes through and hands a copy to the recorder."""

    def __init__(self, stream: TextIO, recorder: ConsoleRecorder, stderr: bool) -> None:
        self._stream = stream
        self._recorder = recorder
        self._stderr = stderr
        self._pid = os.getpid()

    def write(self, text: str) -> int:
        written = self._stream.write(text)
        if self._pid == os.getpid() and isinstance(text, str):
            self._recorder.feed(text, self._stderr)
        return written

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class WrapCapture:
    """Captures through ``sys.stdout``/``sys.stderr`` replacements."""

    def __init__(self, recorder: ConsoleRecorder) -> None:
        self._recorder = recorder
        self._saved: tuple[Any, Any] | None = None

    def start(self) -> None:
        self._saved = (sys.stdout, sys.stderr)
        recorder = self._recorder
        sys.stdout = _TeeStream(sys.stdout, recorder, False)  # type: ignore
        sys.stderr = _TeeStream(sys.stderr, recorder, True)  # type: ignore

    def stop(self) -> None:
        if self._saved is None:
            return
        out, err = self._saved
        self._saved = None
        # put back only our own replacement: another wrapper may sit on top
        if _ours(sys.stdout, self._recorder):
            sys.stdout = out
        if _ours(sys.stderr, self._recorder):
            sys.stderr = err
        self._recorder.close()


def _ours(stream: Any, recorder: ConsoleRecorder) -> bool:
    return isinstance(stream, _TeeStream) and stream._recorder is recorder


# ---- redirect ----------------------------------------------------------------


class RedirectCapture:
    """Moves fds 1 and 2 onto pipes read by one thread that copies through."""

    def __init__(self, recorder: ConsoleRecorder) -> None:
        self._recorder = recorder
        self._saved: dict[int, int] = {}
        self._readers: dict[int, tuple[int, bool]] = {}
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        for fd in (1, 2):
            self._redirect(fd)
        self._thread = threading.Thread(
            target=self._pump, name="lodestar-console", daemon=True
        )
        self._thread.start()

    def _redirect(self, fd: int) -> None:
        saved = os.dup(fd)
        read_end, write_end = _open_channel(saved)
        os.dup2(write_end, fd)
        os.close(write_end)
        self._saved[fd] = saved
        self._readers[read_end] = (saved, fd == 2)

    def stop(self) -> None:
        """Put fds 1 and 2 back; wait a bounded time for the last output."""
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass  # a closed stream has nothing left to flush
        for fd, saved in self._saved.items():
            os.dup2(saved, fd)
        thread = self._thread
        if thread is not None:
            thread.join(STOP_TIMEOUT)
            if thread.is_alive():
                # a child process still holds the pipe: the thread goes on
                # passing its output through, but the run keeps no more of it
                logger.debug("console reader still running after stop")
            else:
                self._close_saved()
        self._recorder.close()

    def _pump(self) -> None:
        decoders = {
            fd: codecs.getincrementaldecoder("utf-8")(errors="replace")
            for fd in self._readers
        }
        open_fds = list(self._readers)
        while open_fds:
            ready, _, _ = select.select(open_fds, [], [], 0.5)
            for fd in ready:
                data = _read(fd)
                target, stderr = self._readers[fd]
                if not data:
                    open_fds.remove(fd)
                    os.close(fd)
                    continue
                _write_all(target, data)
                self._recorder.feed(decoders[fd].decode(data), stderr)

    def _close_saved(self) -> None:
        for saved in self._saved.values():
            try:
                os.close(saved)
            except OSError:
                pass  # already closed
        self._saved = {}


def _open_channel(original: int) -> tuple[int, int]:
    """(read end, write end): a pseudo-terminal if `original` is a terminal."""
    if os.isatty(original) and sys.platform != "win32":
        import pty
        import tty

        master, slave = pty.openpty()
        tty.setraw(slave)  # no newline translation: bytes pass as written
        _copy_window_size(original, slave)
        return master, slave
    return os.pipe()


def _copy_window_size(source: int, target: int) -> None:
    import fcntl
    import termios

    try:
        size = fcntl.ioctl(source, termios.TIOCGWINSZ, b"\0" * 8)
        fcntl.ioctl(target, termios.TIOCSWINSZ, size)
    except OSError as exc:
        logger.debug("terminal size not copied: %s", exc)


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:
        return b""  # EIO: every end of the pseudo-terminal is closed


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except OSError as exc:
            logger.debug("console pass-through failed: %s", exc)
            return
        view = view[written:]
