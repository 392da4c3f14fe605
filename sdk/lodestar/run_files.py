"""``save``, ``restore`` and ``upload_file`` for runs, and the file watcher's
place in a run (see `file_watch` for the policies).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ._proto import events_pb2
from .artifacts.courier import perform
from .artifacts.operations import Platform
from .errors import UsageError
from .file_watch import FileWatcher, make_spec

if TYPE_CHECKING:
    from ._run import Run
    from .settings import Settings
    from .writer import RunWriter

logger = logging.getLogger(__name__)


def attach(run: Run, writer: RunWriter, settings: Settings) -> None:
    """Give `run` its file watcher: polled by the writer thread, and asked
    for what is left just before the run's Finish event."""
    paths = run._info.paths
    if paths is None:
        return
    watcher = FileWatcher(paths, settings.ignore_globs)
    run._file_watcher = watcher

    def tick(now: float) -> list[tuple[str, Any]]:
        return [("file", events_pb2.FileEntry(path=n)) for n in watcher.poll(now)]

    def at_finish() -> None:
        for name in watcher.finish():
            run._record_event("file", events_pb2.FileEntry(path=name))

    writer.tickers.append(tick)
    run._before_finish.append(at_finish)


def save(
    run: Run, glob_str: str | os.PathLike[str], base_path: str | None = None,
    policy: str = "live",
) -> list[str]:
    """Upload files matching `glob_str` (now and later) by `policy`.

    Returns:
        The paths that match now.

    Raises:
        UsageError: unknown policy, or a glob outside `base_path`.
    """
    spec = make_spec(str(glob_str), base_path, policy)
    watcher: FileWatcher | None = getattr(run, "_file_watcher", None)
    if watcher is None or run._inactive:
        return []
    return watcher.add(spec)


def platform_of(run: Run | None) -> Platform:
    """The platform a run reports to, or the one the settings name."""
    if run is not None:
        settings = run._info.settings
    else:
        from .settings import load_settings

        settings = load_settings()
    return Platform(settings.base_url, settings.api_key)


def restore(
    name: str, run_path: str | None = None, replace: bool = False,
    root: str | None = None, run: Run | None = None,
) -> IO[str] | None:
    """Download the file `name` of a run and open it for reading.

    `run_path` is ``entity/project/run_id`` (default: the current run); the
    file goes to ``root/name`` (default: the current run's ``files/``, else
    the working directory). An existing file is kept unless `replace`.

    Raises:
        UsageError: no run to restore from.
        ApiError: the run has no such file.
    """
    entity, project, run_id = _run_parts(run_path, run)
    target_root = root or (run.dir if run is not None and run.dir else os.getcwd())
    target = Path(target_root) / name
    if not (target.exists() and not replace):
        perform(platform_of(run), "download_run_file", entity=entity,
                project=project, run_id=run_id, name=name, root=str(target_root),
                replace=True)
    return open(target, encoding="utf-8", errors="replace")  # noqa: SIM115


def _run_parts(run_path: str | None, run: Run | None) -> tuple[str, str, str]:
    if run_path:
        parts = [p for p in str(run_path).strip("/").split("/") if p]
        if len(parts) == 4 and parts[2] == "runs":
            parts = [parts[0], parts[1], parts[3]]
        if len(parts) == 3:
            return parts[0], parts[1], parts[2]
        if len(parts) == 2 and run is not None:
            return run.entity, parts[0], parts[1]
        raise UsageError(f"run_path {run_path!r} is not 'entity/project/run_id'")
    if run is None:
        raise UsageError("restore needs run_path='entity/project/run_id' when no run "
                         "is active")
    return run.entity, run.project, run.id
