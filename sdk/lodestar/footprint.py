"""The local footprint: re-send interrupted runs, clean synced ones, cap the size.

- A run directory whose WAL the server holds completely carries a ``.synced``
  marker (written by the agent or ``lodestar sync``).
- An online run that lost its connection and whose agent is gone (no
  ``.synced``, no live agent, no refusal) is sent again by the next
  ``init()``, which starts an agent for it, or by ``lodestar sync``. The
  server keeps per WAL how far it got, so nothing is duplicated.
- ``lodestar clean [--older-than 24h] [--include-unsynced]`` removes run
  directories the server fully has; ``lodestar sync --clean`` uses the same
  `remove_run_dir`.
- ``LODESTAR_MAX_LOCAL_GB`` caps the run directories plus the artifact
  download cache: each ``init()`` removes the oldest synced directories,
  then the least recently used cached files, until the total fits. Unsynced
  directories and the current run are never removed by the cap.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil

from .agent_status import read_status
from .errors import UsageError
from .run_dir import LATEST, runs_root

logger = logging.getLogger(__name__)

SYNCED_MARKER = ".synced"
METADATA = "files/lodestar-metadata.json"
PLATFORM_URL = "platform-url"  # RunPaths.platform_url
MAX_RESYNCS_PER_INIT = 4
_AGE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([smhdw]?)\s*$")
_UNITS = {"": 3600.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0,
          "w": 604800.0}


@dataclass(frozen=True)
class LocalRun:
    """One run directory on this machine."""

    path: Path

    @property
    def synced(self) -> bool:
        return (self.path / SYNCED_MARKER).exists()

    @property
    def offline(self) -> bool:
        return self.path.name.startswith("offline-run-")

    @property
    def changed_at(self) -> float:
        marker = self.path / SYNCED_MARKER
        target = marker if marker.exists() else self.path
        try:
            return target.stat().st_mtime
        except OSError:
            return 0.0

    def size(self) -> int:
        return _tree_size(self.path)

    def sends_to(self, base_url: str) -> bool:
        """Whether the run was started for the platform at `base_url` (a run
        written before runs recorded their platform counts as any)."""
        try:
            recorded = (self.path / PLATFORM_URL).read_text().strip()
        except OSError:
            return True
        return recorded.rstrip("/") == base_url.rstrip("/")

    def training_alive(self) -> bool:
        """Whether the process that wrote the run still runs (its own
        supervisor then restarts a dead agent; nobody else may send)."""
        try:
            meta = json.loads((self.path / METADATA).read_text())
            pid = int(meta["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            return False
        try:
            created = psutil.Process(pid).create_time()
        except psutil.Error:
            return False
        return created <= self.path.stat().st_ctime + 1.0

    def agent_alive(self) -> bool:
        pid = read_status(self.path).pid
        if not pid or not psutil.pid_exists(pid):
            return False
        try:
            return "lodestar.agent" in " ".join(psutil.Process(pid).cmdline())
        except psutil.Error:
            return False


def local_runs(root: Path) -> list[LocalRun]:
    """The run directories under `root` (``<dir>/lodestar``), oldest first."""
    if not root.is_dir():
        return []
    found = [LocalRun(p) for p in root.iterdir() if p.is_dir() and not p.is_symlink()
             and any(p.glob("*.wal"))]
    return sorted(found, key=lambda run: run.changed_at)


def remove_run_dir(path: Path) -> None:
    """Delete a run directory, and the ``latest-run`` link if it points there."""
    latest = path.parent / LATEST
    if latest.is_symlink() and latest.resolve() == path.resolve():
        latest.unlink()
    shutil.rmtree(path)
    logger.info("removed %s", path)


# ---- re-sending interrupted runs ------------------------------------------------


def interrupted(
    root: Path, current: Path | None = None, base_url: str | None = None
) -> list[LocalRun]:
    """Online runs that are not fully sent and have nobody sending them (only
    those started for the platform at `base_url`, when given)."""
    pending = []
    for run in local_runs(root):
        if run.synced or run.offline or (current and run.path == current):
            continue
        if base_url is not None and not run.sends_to(base_url):
            continue
        status = read_status(run.path)
        if status.error or status.done or run.agent_alive():
            continue
        if run.training_alive():
            continue
        pending.append(run)
    return pending


def resend_interrupted(
    root: Path, env: dict[str, str], current: Path | None = None
) -> list[Path]:
    """Start an agent for each interrupted run (a few per call); their paths."""
    started = []
    base_url = env.get("LODESTAR_BASE_URL")
    for run in interrupted(root, current, base_url)[:MAX_RESYNCS_PER_INIT]:
        log = run.path / "logs" / "agent.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "ab") as out:
            subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
                [sys.executable, "-m", "lodestar.agent", str(run.path)],
                stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=env,
                start_new_session=True,
            )
        logger.info("sending interrupted run %s again", run.path)
        started.append(run.path)
    return started


# ---- cleaning and the size cap --------------------------------------------------


def clean(
    root: Path, older_than_s: float = 0.0, include_unsynced: bool = False,
    keep: Path | None = None,
) -> list[Path]:
    """Remove run directories the server fully has (all, with
    `include_unsynced`) that have not changed for `older_than_s`."""
    now = time.time()
    removed = []
    for run in local_runs(root):
        if keep is not None and run.path == keep:
            continue
        if not (run.synced or include_unsynced):
            continue
        if now - run.changed_at < older_than_s or run.agent_alive():
            continue
        remove_run_dir(run.path)
        removed.append(run.path)
    return removed


def enforce_cap(
    root: Path, cache_dir: Path, max_bytes: int, keep: Path | None = None
) -> int:
    """Prune until run directories plus cache fit in `max_bytes`; bytes freed."""
    runs = local_runs(root)
    sizes = {run.path: run.size() for run in runs}
    cached = _cache_files(cache_dir)
    total = sum(sizes.values()) + sum(size for _, size, _ in cached)
    freed = 0
    for run in runs:
        if total - freed <= max_bytes:
            return freed
        if run.synced and run.path != keep and not run.agent_alive():
            remove_run_dir(run.path)
            freed += sizes[run.path]
    for path, size, _ in cached:
        if total - freed <= max_bytes:
            break
        path.unlink(missing_ok=True)
        freed += size
    return freed


def after_init(
    base: str | None, current: Path, env: dict[str, str], max_local_gb: float,
    cache_dir: Path,
) -> None:
    """What ``init()`` does for the footprint; a failure is only logged."""
    root = runs_root(base)
    try:
        if env:
            resend_interrupted(root, env, current)
        if max_local_gb > 0:
            enforce_cap(root, cache_dir, int(max_local_gb * 1e9), keep=current)
    except OSError as exc:
        logger.warning("lodestar could not tidy %s: %s", root, exc)


def _cache_files(cache_dir: Path) -> list[tuple[Path, int, float]]:
    """Cached files, least recently used first: (path, size, last use)."""
    found = []
    for path in _files(cache_dir):
        try:
            info = path.stat()
        except OSError:
            continue
        found.append((path, info.st_size, max(info.st_atime, info.st_mtime)))
    return sorted(found, key=lambda item: item[2])


def _files(root: Path) -> Iterator[Path]:
    if not root.is_dir():
        return
    for folder, _, names in os.walk(root):
        for name in names:
            yield Path(folder) / name


def _tree_size(root: Path) -> int:
    total = 0
    for path in _files(root):
        try:
            total += path.stat().st_size
        except OSError:
            continue
    return total


def parse_age(text: str) -> float:
    """Seconds in ``"24h"``, ``"30m"``, ``"7d"``, ``"90s"`` (hours by default).

    Raises:
        UsageError: it is not a number with one of the units s, m, h, d, w.
    """
    match = _AGE.match(text or "")
    if match is None:
        raise UsageError(
            f"--older-than {text!r} is not an age such as 24h, 30m, 7d or 90s"
        )
    return float(match[1]) * _UNITS[match[2]]


# ---- the command ----------------------------------------------------------------


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``clean`` on the ``lodestar`` command's subparsers."""
    parser = subparsers.add_parser(
        "clean",
        help="remove local run directories the server fully has",
        description="Remove run directories whose WAL the server holds "
        "completely (they carry a .synced marker).",
    )
    parser.add_argument("paths", nargs="*", metavar="DIR",
                        help="where the lodestar/ folder is (default: here, or "
                        "LODESTAR_DIR)")
    parser.add_argument("--older-than", default="0s", metavar="AGE",
                        help="only directories unchanged for AGE, e.g. 24h")
    parser.add_argument("--include-unsynced", action="store_true",
                        help="also remove directories the server does not have")
    parser.set_defaults(func=command)
    return parser


def command(args: argparse.Namespace) -> int:
    """The ``clean`` subcommand; prints one line per removed directory."""
    try:
        age = parse_age(args.older_than)
    except UsageError as exc:
        print(f"lodestar clean: {exc}", file=sys.stderr)
        return 2
    removed: list[Path] = []
    for root in _roots(args.paths):
        removed += clean(root, age, args.include_unsynced)
    for path in removed:
        print(f"removed {path}")
    print(f"{len(removed)} run directories removed")
    return 0


def _roots(paths: Iterable[str]) -> list[Path]:
    given = list(paths) or [os.environ.get("LODESTAR_DIR") or os.getcwd()]
    roots = []
    for raw in given:
        path = Path(raw).expanduser().resolve()
        roots.append(path if path.name == "lodestar" else path / "lodestar")
    return roots
