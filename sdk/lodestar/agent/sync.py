"""``lodestar sync PATH... [--clean]``: upload offline or half-sent runs.

Each run directory's WAL is sent by the same `Sender` the agent uses, in this
process. The server keeps, per WAL, how far it has published, so syncing a
directory again sends nothing new and gives exactly the same result. A WAL
without a Finish event is reported as a crashed run, as the agent would have.
``--clean`` removes the directories the server holds completely.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import psutil

from ..agent_status import read_status
from ..errors import ApiError, UsageError
from ..footprint import remove_run_dir
from ..settings import Settings, load_settings
from .cursor import find_wal
from .discovery import ingest_resolver
from .sender import Outcome, Sender, SenderOptions
from .uploads import Uploader

logger = logging.getLogger(__name__)

SYNC_OPTIONS = SenderOptions(linger_s=30.0)


@dataclass(frozen=True)
class SyncResult:
    """What happened to one run directory."""

    run_dir: Path
    outcome: Outcome
    acked_seq: int
    message: str = ""
    removed: bool = False

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.DONE


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``sync`` on the ``lodestar`` command's subparsers."""
    parser = subparsers.add_parser(
        "sync",
        help="upload offline or half-sent runs",
        description="Upload the WALs of run directories. Safe to repeat: "
        "what the server already holds is not sent again.",
    )
    parser.add_argument(
        "paths", nargs="+", metavar="PATH",
        help="a run directory, or a directory holding run directories",
    )
    parser.add_argument(
        "--clean", action="store_true",
        help="remove the run directories the server holds completely",
    )
    parser.add_argument(
        "--verify", action="store_true",
        help="send nothing; compare what the server holds with each WAL "
        "(records, steps, checksums) and report every difference",
    )
    parser.set_defaults(func=command)
    return parser


def command(args: argparse.Namespace) -> int:
    """The ``sync`` subcommand; prints one line per run directory."""
    if args.verify:
        return verify_command(args.paths)
    try:
        results = sync(args.paths, clean=args.clean)
    except UsageError as exc:
        print(f"lodestar sync: {exc}", file=sys.stderr)
        return 2
    for result in results:
        print(_line(result))
    return 0 if all(result.ok for result in results) else 1


def _line(result: SyncResult) -> str:
    if result.ok:
        removed = " (removed)" if result.removed else ""
        return f"synced {result.run_dir}: {result.acked_seq} events{removed}"
    return f"not synced {result.run_dir}: {result.message}"


def sync(
    paths: Iterable[str | Path],
    settings: Settings | None = None,
    clean: bool = False,
    options: SenderOptions = SYNC_OPTIONS,
) -> list[SyncResult]:
    """Send every run directory under `paths`; one result each, in order.

    Raises:
        UsageError: a path holds no run directory, or there is no API key.
    """
    settings = settings or load_settings()
    if not settings.api_key:
        raise UsageError("no API key: run `lodestar login` or set LODESTAR_API_KEY")
    run_dirs = find_run_dirs(paths)
    return asyncio.run(_sync_all(run_dirs, settings, clean, options))


def find_run_dirs(paths: Iterable[str | Path]) -> list[Path]:
    """The run directories named by `paths` (each, or the ones inside it)."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw).expanduser().resolve()
        if path.is_file() and path.suffix == ".wal":
            path = path.parent
        if find_wal(path) is None and find_wal(path.parent) is not None:
            path = path.parent  # a run's files/ folder, as `run.dir` names it
        if find_wal(path) is not None:
            found.append(path)
            continue
        inner = sorted(p for p in path.glob("*/") if p.is_dir() and not p.is_symlink()
                       and find_wal(p) is not None)
        if not inner:
            raise UsageError(f"{raw} holds no run directory (no *.wal file in it)")
        found.extend(inner)
    return list(dict.fromkeys(found))


async def _sync_all(
    run_dirs: list[Path], settings: Settings, clean: bool, options: SenderOptions
) -> list[SyncResult]:
    resolve = ingest_resolver(settings.base_url)
    results = []
    for run_dir in run_dirs:
        result = await _sync_one(run_dir, settings.api_key or "", resolve, options,
                                 settings.base_url)
        if clean and result.ok:
            result = _removed(result)
        results.append(result)
    return results


async def _sync_one(
    run_dir: Path, api_key: str, resolve, options, base_url: str = ""
) -> SyncResult:
    busy = _busy_agent(run_dir)
    if busy:
        return SyncResult(run_dir, Outcome.GAVE_UP, 0,
                          f"its agent (pid {busy}) is still sending it")
    wal_path = find_wal(run_dir)
    if wal_path is None:
        return SyncResult(run_dir, Outcome.GAVE_UP, 0, "its WAL is gone")
    uploader = Uploader(run_dir, base_url, api_key) if base_url else None
    sender = Sender(run_dir, wal_path, api_key, resolve, options, parent=None,
                    uploader=uploader)
    outcome = await sender.run()
    message = str(sender.error) if sender.error else ""
    return SyncResult(run_dir, outcome, sender.status.acked_seq, message)


def _busy_agent(run_dir: Path) -> int | None:
    """The pid of a live agent still working on `run_dir`, if any."""
    status = read_status(run_dir)
    if status.done or not status.pid or not psutil.pid_exists(status.pid):
        return None
    try:
        command = psutil.Process(status.pid).cmdline()
    except psutil.Error:
        return None
    return status.pid if "lodestar.agent" in command else None


def verify_command(paths: list[str]) -> int:
    """``sync --verify``: one line per run directory, one per difference."""
    from ..api import Api
    from ..verify import verify

    try:
        verdicts = verify(find_run_dirs(paths), Api())
    except (UsageError, ApiError) as exc:
        print(f"lodestar sync --verify: {exc}", file=sys.stderr)
        return 2
    for verdict in verdicts:
        state = "matches" if verdict.ok else "differs from"
        print(f"{verdict.run_dir} {state} the server")
        for difference in verdict.differences:
            print(f"  {difference}")
    return 0 if all(verdict.ok for verdict in verdicts) else 1


def _removed(result: SyncResult) -> SyncResult:
    run_dir = result.run_dir
    remove_run_dir(run_dir)
    return SyncResult(run_dir, result.outcome, result.acked_seq, result.message, True)
