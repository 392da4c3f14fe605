"""Which run files to upload, and when: ``save`` policies and ``files/``.

`FileWatcher` lives in the run's writer thread (no thread of its own). It
holds the globs given to ``lodestar.save`` and, about once a second, looks
for files they match, including files created after the call:

- ``live``: linked into ``files/`` and uploaded when first seen and again
  after every change (size or modification time), while the run is alive;
- ``now``: copied into ``files/`` when first seen and uploaded once;
- ``end``: linked into ``files/`` and uploaded when the run finishes.

At finish, every file under ``files/`` that was never uploaded, or changed
since, is uploaded (config, summary, metadata, what the script put there).
Names matching ``LODESTAR_IGNORE_GLOBS`` (comma-separated; ``dir/`` matches a
directory anywhere, other patterns the relative name or the base name) are
left out everywhere.
"""

from __future__ import annotations

import fnmatch
import glob
import logging
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

from .errors import BadPath, UsageError
from .files import local_path, normalize_name
from .run_dir import RunPaths

logger = logging.getLogger(__name__)

POLICIES = ("live", "now", "end")
POLL_INTERVAL = 1.0
_WILD = set("*?[")


@dataclass(frozen=True)
class SaveSpec:
    """One ``save`` call: an absolute glob, the base names are relative to."""

    pattern: str
    base: str
    policy: str


def make_spec(glob_str: str, base_path: str | None, policy: str) -> SaveSpec:
    """The spec of a ``save`` call, with paths made absolute.

    Raises:
        UsageError: unknown policy, or a glob outside `base_path`.
    """
    if policy not in POLICIES:
        raise UsageError(f"policy={policy!r}; use one of {', '.join(POLICIES)}")
    pattern = os.path.abspath(os.fspath(glob_str))
    if base_path is None:
        base = _fixed_prefix(pattern)
    else:
        base = os.path.abspath(os.fspath(base_path))
    if not pattern.startswith(base.rstrip(os.sep) + os.sep):
        raise UsageError(f"glob {glob_str!r} is not under base_path {base!r}")
    return SaveSpec(pattern, base, policy)


def _fixed_prefix(pattern: str) -> str:
    parts = Path(pattern).parts[:-1]
    fixed = []
    for part in parts:
        if _WILD & set(part):
            break
        fixed.append(part)
    return str(Path(*fixed)) if fixed else os.sep


def ignored(name: str, patterns: list[str]) -> bool:
    """Whether `name` (relative, ``/``-separated) matches an ignore pattern."""
    segments = name.split("/")
    for pattern in patterns:
        if pattern.endswith("/"):
            if any(fnmatch.fnmatch(s, pattern[:-1]) for s in segments[:-1]):
                return True
        elif fnmatch.fnmatch(name, pattern) or fnmatch.fnmatch(segments[-1], pattern):
            return True
    return False


def parse_globs(text: str | None) -> list[str]:
    return [p.strip() for p in (text or "").split(",") if p.strip()]


class FileWatcher:
    """Decides when the files of one run are uploaded (see the module doc).

    Args:
        paths: the run directory.
        ignore_globs: ``LODESTAR_IGNORE_GLOBS`` as given.
    """

    def __init__(self, paths: RunPaths, ignore_globs: str | None = None) -> None:
        self._files = paths.files
        self._ignore = parse_globs(ignore_globs)
        self._specs: list[SaveSpec] = []
        self._tracked: dict[str, tuple[str, str]] = {}   # name -> (source, policy)
        self._staged: dict[str, tuple[int, int]] = {}    # name -> signature
        self._lock = threading.Lock()
        self._next_poll = 0.0
        self._out: list[str] = []

    def add(self, spec: SaveSpec) -> list[str]:
        """Start watching `spec` (from any thread); the files it matches now.

        The writer thread links and queues them at its next step.
        """
        with self._lock:
            self._specs.append(spec)
            self._next_poll = 0.0
        return [m for m in sorted(glob.glob(spec.pattern, recursive=True))
                if os.path.isfile(m)]

    def staged(self, name: str) -> None:
        """Note that ``files/<name>`` was just queued for upload elsewhere."""
        with self._lock:
            self._note(name)

    def poll(self, now: float) -> list[str]:
        """The files to upload now; looks at most once a `POLL_INTERVAL`."""
        if now < self._next_poll or not self._specs:
            return []
        self._next_poll = now + POLL_INTERVAL
        with self._lock:
            for spec in list(self._specs):
                self._scan_spec(spec)
            for name, (_source, policy) in list(self._tracked.items()):
                if policy == "live" and self._changed(name):
                    self._stage(name)
            return self._take()

    def finish(self) -> list[str]:
        """The files to upload at the end: ``files/`` and the ``end`` globs."""
        with self._lock:
            for spec in self._specs:
                self._scan_spec(spec)
            if self._files.is_dir():
                for path in sorted(self._files.rglob("*")):
                    name = path.relative_to(self._files).as_posix()
                    if (path.is_file() and not _hidden(name) and not self._skip(name)
                            and self._changed(name)):
                        self._stage(name)
            return self._take()

    def _take(self) -> list[str]:
        out, self._out = self._out, []
        return out

    # ---- helpers -----------------------------------------------------------

    def _scan_spec(self, spec: SaveSpec) -> list[str]:
        found = []
        for match in sorted(glob.glob(spec.pattern, recursive=True)):
            if not os.path.isfile(match):
                continue
            try:
                name = normalize_name(os.path.relpath(match, spec.base).replace(
                    os.sep, "/"))
            except BadPath:
                continue
            if self._skip(name):
                continue
            found.append(match)
            if name not in self._tracked:
                self._track(name, match, spec.policy)
        return found

    def _track(self, name: str, source: str, policy: str) -> None:
        target = local_path(self._files, name)
        self._tracked[name] = (source, policy)
        if os.path.abspath(source) != str(target):
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.is_symlink() or target.exists():
                target.unlink()
            if policy == "now":
                shutil.copyfile(source, target)
            else:
                os.symlink(os.path.abspath(source), target)
        if policy in ("live", "now"):
            self._stage(name)

    def _changed(self, name: str) -> bool:
        signature = self._signature(name)
        return signature is not None and self._staged.get(name) != signature

    def _signature(self, name: str) -> tuple[int, int] | None:
        try:
            stat = os.stat(self._files / name)
        except OSError:
            return None
        return stat.st_size, stat.st_mtime_ns

    def _stage(self, name: str) -> None:
        self._out.append(name)
        self._note(name)

    def _note(self, name: str) -> None:
        signature = self._signature(name)
        if signature is not None:
            self._staged[name] = signature

    def _skip(self, name: str) -> bool:
        return bool(self._ignore) and ignored(name, self._ignore)


def _hidden(name: str) -> bool:
    # temporary files of atomic writes (".name.tmp") are not run files
    return any(part.startswith(".") for part in name.split("/"))
