"""What the run's metadata file says about the process: program, host, git."""

from __future__ import annotations

import logging
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

logger = logging.getLogger(__name__)

GIT_TIMEOUT = 3.0


def collect(started_at: float) -> dict[str, Any]:
    """Program, arguments, host, Python and git state of this process."""
    metadata: dict[str, Any] = {
        "program": _program(),
        "args": list(sys.argv[1:]),
        "host": platform.node(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "executable": sys.executable,
        "cwd": os.getcwd(),
        "pid": os.getpid(),
        "started_at": time.strftime(
            "%Y-%m-%dT%H:%M:%SZ", time.gmtime(started_at)
        ),
    }
    git = git_state(Path.cwd())
    if git:
        metadata["git"] = git
    return metadata


def _program() -> str:
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None) or (sys.argv[0] if sys.argv else "")
    return str(Path(path).resolve()) if path and path != "-c" else "<python>"


def git_state(directory: Path) -> dict[str, Any] | None:
    """Commit, remote and dirty flag of the repository holding `directory`."""
    commit = _git(directory, "rev-parse", "HEAD")
    if commit is None:
        return None
    remote = _git(directory, "remote", "get-url", "origin")
    status = _git(directory, "status", "--porcelain", "--untracked-files=no")
    return {
        "commit": commit,
        "remote": strip_credentials(remote) if remote else None,
        "dirty": bool(status),
    }


def strip_credentials(url: str) -> str:
    """`url` without a user name or token (``https://tok@host/x`` → host)."""
    parts = urlsplit(url)
    if not parts.netloc or "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=host))


def _git(directory: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        logger.debug("git %s failed: %s", args[0], exc)
        return None
    if done.returncode != 0:
        return None
    return done.stdout.strip()
