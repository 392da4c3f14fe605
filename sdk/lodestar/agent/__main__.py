"""``python -m lodestar.agent RUN_DIR --parent-pid PID``: send one run's WAL.

Started by ``lodestar.init()`` in a session of its own, with its output going
to ``RUN_DIR/logs/agent.log``. Exit status: 0 when the server holds the whole
WAL, 1 when ingest refused the stream, 2 when the platform stayed unreachable.
After a refusal the agent waits for the training process to end before it
exits, so that nothing restarts it only to be refused again.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from pathlib import Path

from ..agent_status import AgentStatus
from ..errors import LodestarError
from ..settings import load_settings
from .cursor import find_wal
from .discovery import ingest_resolver
from .parent import ParentWatch
from .sender import Outcome, Sender, SenderOptions
from .uploads import Uploader

logger = logging.getLogger("lodestar.agent")

WAL_WAIT_S = 30.0
_EXIT = {Outcome.DONE: 0, Outcome.REFUSED: 1, Outcome.GAVE_UP: 2}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO,
        format="%(asctime)s %(levelname)s agent[%(process)d] %(message)s",
    )
    run_dir = Path(args.run_dir).resolve()
    parent = ParentWatch(args.parent_pid)
    outcome = _run(run_dir, parent)
    if outcome is Outcome.REFUSED:
        _wait_while_alive(parent)
    return _EXIT[outcome]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lodestar.agent")
    parser.add_argument("run_dir", help="the run directory holding the WAL")
    parser.add_argument("--parent-pid", type=int, default=None,
                        help="the training process; the agent reports its death")
    return parser


def _run(run_dir: Path, parent: ParentWatch) -> Outcome:
    try:
        settings = load_settings()
    except LodestarError as exc:
        return _refuse(run_dir, "invalid", str(exc))
    if not settings.api_key:
        return _refuse(run_dir, "unauthenticated",
                       "no API key: run `lodestar login` or set LODESTAR_API_KEY")
    wal_path = _wait_for_wal(run_dir, parent)
    if wal_path is None:
        return _refuse(run_dir, "invalid", f"no *.wal file in {run_dir}")
    options = SenderOptions(heartbeat_interval_s=settings.heartbeat_interval)
    uploader = Uploader(run_dir, settings.base_url, settings.api_key)
    sender = Sender(run_dir, wal_path, settings.api_key,
                    ingest_resolver(settings.base_url), options, parent, uploader)
    logger.info("sending %s to %s", wal_path, settings.base_url)
    return asyncio.run(sender.run())


def _wait_for_wal(run_dir: Path, parent: ParentWatch) -> Path | None:
    deadline = time.monotonic() + WAL_WAIT_S
    while True:
        path = find_wal(run_dir)
        if path is not None or time.monotonic() > deadline or not parent.alive():
            return path
        time.sleep(0.05)


def _refuse(run_dir: Path, code: str, message: str) -> Outcome:
    logger.error("%s", message)
    if run_dir.is_dir():
        AgentStatus(error={"code": code, "message": message}).write(run_dir)
    return Outcome.REFUSED


def _wait_while_alive(parent: ParentWatch) -> None:
    while parent.alive():
        time.sleep(0.2)


if __name__ == "__main__":
    sys.exit(main())
