"""The run directory: where a run's WAL, files and logs live on this machine.

    <dir>/lodestar/run-<YYYYmmdd_HHMMSS>-<run_id>/   (offline-run-… offline)
        run-<run_id>.wal     the write-ahead log, the only *.wal file
        agent.json           the agent's reports
        files/               config.yaml, lodestar-summary.json,
                             lodestar-metadata.json
        logs/                debug.log, agent.log
    <dir>/lodestar/latest-run -> the newest run directory
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from . import wal
from ._proto import events_pb2

logger = logging.getLogger(__name__)

ROOT_NAME = "lodestar"
LATEST = "latest-run"


@dataclass(frozen=True)
class RunPaths:
    """The paths of one run directory."""

    path: Path
    run_id: str

    @property
    def wal(self) -> Path:
        return self.path / f"run-{self.run_id}.wal"

    @property
    def files(self) -> Path:
        return self.path / "files"

    @property
    def logs(self) -> Path:
        return self.path / "logs"

    @property
    def config_yaml(self) -> Path:
        return self.files / "config.yaml"

    @property
    def summary_json(self) -> Path:
        return self.files / "lodestar-summary.json"

    @property
    def metadata_json(self) -> Path:
        return self.files / "lodestar-metadata.json"

    @property
    def platform_url(self) -> Path:
        """The platform an online run sends to (only that one resends it)."""
        return self.path / "platform-url"

    @property
    def agent_log(self) -> Path:
        return self.logs / "agent.log"

    @property
    def debug_log(self) -> Path:
        return self.logs / "debug.log"


def runs_root(base: str | os.PathLike[str] | None) -> Path:
    """``<base>/lodestar``, with the working directory as the default base."""
    return Path(base if base else os.getcwd()).resolve() / ROOT_NAME


def create(root: Path, run_id: str, offline: bool, started_at: float) -> RunPaths:
    """Make a new run directory and point ``latest-run`` at it."""
    prefix = "offline-run" if offline else "run"
    stamp = time.strftime("%Y%m%d_%H%M%S", time.localtime(started_at))
    name = f"{prefix}-{stamp}-{run_id}"
    root.mkdir(parents=True, exist_ok=True)
    path = _fresh(root, name)
    paths = RunPaths(path, run_id)
    paths.files.mkdir()
    paths.logs.mkdir()
    _point_latest(root, path.name)
    return paths


def _fresh(root: Path, name: str) -> Path:
    # a resume of the same id within one second would reuse the name
    for attempt in range(1000):
        path = root / (name if attempt == 0 else f"{name}-{attempt}")
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"no free run directory name under {root} for {name}")


def _point_latest(root: Path, name: str) -> None:
    link = root / LATEST
    tmp = root / f".{LATEST}.{os.getpid()}"
    try:
        if tmp.is_symlink():
            tmp.unlink()
        os.symlink(name, tmp)
        os.replace(tmp, link)
    except OSError as exc:
        logger.debug("cannot point %s at %s: %s", link, name, exc)


def latest(root: Path) -> Path | None:
    """The run directory ``latest-run`` points at, if it exists."""
    link = root / LATEST
    if not link.exists():
        return None
    return link.resolve()


def wal_of(run_dir: Path) -> Path | None:
    """The WAL of a run directory."""
    found = sorted(run_dir.glob("*.wal"))
    return found[0] if found else None


def unfinished_latest(root: Path) -> events_pb2.WalHeader | None:
    """The header of the latest run here when its WAL holds no Finish event."""
    run_dir = latest(root)
    path = wal_of(run_dir) if run_dir else None
    if path is None:
        return None
    try:
        header, events = wal.read_all(path)
    except (OSError, wal.WalError) as exc:
        logger.debug("cannot read %s: %s", path, exc)
        return None
    if header is None or any(e.HasField("finish") for e in events):
        return None
    return header


def local_next_step(root: Path, run_id: str) -> int:
    """One past the highest step in the local WALs of `run_id` (0 if none)."""
    highest = -1
    for path in root.glob(f"*-{run_id}*/run-{run_id}.wal"):
        try:
            _, events = wal.read_all(path)
        except (OSError, wal.WalError):
            continue
        for event in events:
            if event.HasField("history") and event.history.steps:
                highest = max(highest, event.history.max_step)
    return highest + 1
