"""Code capture: what is needed to run the same code again.

At ``init()`` the run stores, through the run-files seam (`files.py`):

- ``code/<program path>``: the script that was started (its path relative to
  the git repository, or just its name outside one);
- ``diff.patch``: the uncommitted changes to tracked files (``git diff HEAD``),
  only when there are some;
- ``requirements.txt``: every installed distribution as ``name==version``,
  the way ``pip freeze`` lists them (read from the installed metadata, which
  takes milliseconds where ``pip freeze`` takes a second).

The exact command line, the git commit, remote and branch go into the run's
metadata (`metadata.py`). ``LODESTAR_DISABLE_CODE`` stops the program copy
and the patch; ``LODESTAR_DISABLE_GIT`` stops the git metadata and the patch.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import TYPE_CHECKING

from . import files, metadata
from .errors import LodestarError
from .settings import Settings

if TYPE_CHECKING:
    from ._run import Run

logger = logging.getLogger(__name__)

MAX_PROGRAM_BYTES = 10 << 20


def capture(run: Run, settings: Settings) -> list[str]:
    """Store the program, the patch and the requirements; returns their names."""
    jobs: list[Callable[[Run], list[str]]] = [_store_requirements]
    if not settings.disable_code:
        jobs.append(_store_program)
        if not settings.disable_git:
            jobs.append(_store_diff)
    stored: list[str] = []
    for job in jobs:
        try:
            stored.extend(job(run))
        except (OSError, LodestarError) as exc:
            logger.warning("lodestar could not store the run's code: %s", exc)
    return stored


def _store_requirements(run: Run) -> list[str]:
    files.stage_bytes(run, "requirements.txt", requirements().encode())
    return ["requirements.txt"]


def _store_diff(run: Run) -> list[str]:
    patch = metadata.git_diff(Path.cwd())
    if not patch:
        return []
    files.stage_bytes(run, "diff.patch", patch.encode())
    return ["diff.patch"]


def _store_program(run: Run) -> list[str]:
    program = metadata.program_path()
    if program is None or not program.is_file():
        return []
    if program.stat().st_size > MAX_PROGRAM_BYTES:
        logger.info("program %s is over 10 MB and is not stored", program)
        return []
    name = "code/" + program_name(program)
    files.stage_bytes(run, name, program.read_bytes())
    return [name]


def program_name(program: Path) -> str:
    """`program`'s path inside its git repository, else its file name."""
    root = metadata.git_root(program.parent)
    if root is not None:
        try:
            return program.relative_to(root).as_posix()
        except ValueError:
            logger.debug("%s is outside its repository root %s", program, root)
    return program.name


def requirements() -> str:
    """``name==version`` of every installed distribution, sorted by name."""
    found: dict[str, str] = {}
    for dist in importlib_metadata.distributions():
        name = dist.metadata["Name"]
        if name and name.lower() not in found:
            found[name.lower()] = f"{name}=={dist.version}"
    return "".join(found[key] + "\n" for key in sorted(found))
