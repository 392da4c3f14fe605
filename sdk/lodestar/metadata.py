"""What the run's metadata file says about the process: program, host, git."""

from __future__ import annotations

import logging
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

logger = logging.getLogger(__name__)

GIT_TIMEOUT = 3.0


def collect(started_at: float, git: bool = True) -> dict[str, Any]:
    """Program, arguments, host, Python and (unless not `git`) git state."""
    metadata: dict[str, Any] = {
        "program": _program(),
        "args": list(sys.argv[1:]),
        "command": command_line(),
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
    state = git_state(Path.cwd()) if git else None
    if state:
        metadata["git"] = state
    return metadata


def command_line() -> str:
    """The command that started this process, quoted for a shell."""
    return shlex.join([sys.executable, *sys.argv])


def _program() -> str:
    path = program_path()
    return str(path) if path is not None else "<python>"


def program_path() -> Path | None:
    """The script this process runs, resolved (None for ``-c`` or a REPL)."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None) or (sys.argv[0] if sys.argv else "")
    if not path or path in ("-c", "-m") or "ipykernel" in Path(path).name:
        return None  # Jupyter runs the kernel's launcher, not a script
    return Path(path).resolve()


def git_root(directory: Path) -> Path | None:
    """The top folder of the git repository holding `directory`."""
    top = _git(directory, "rev-parse", "--show-toplevel")
    return Path(top).resolve() if top else None


def git_state(directory: Path) -> dict[str, Any] | None:
    """Commit, remote and dirty flag of the repository holding `directory`."""
    commit = _git(directory, "rev-parse", "HEAD")
    if commit is None:
        return None
    remote = _git(directory, "remote", "get-url", "origin")
    status = _git(directory, "status", "--porcelain", "--untracked-files=no")
    branch = _git(directory, "rev-parse", "--abbrev-ref", "HEAD")
    return {
        "commit": commit,
        "remote": strip_credentials(remote) if remote else None,
        "branch": branch if branch and branch != "HEAD" else None,
        "dirty": bool(status),
    }


def git_diff(directory: Path) -> str | None:
    """The uncommitted changes to tracked files, as a patch (None outside git)."""
    return _git_raw(directory, "diff", "HEAD", "--binary")


def strip_credentials(url: str) -> str:
    """`url` without a user name or token (``https://tok@host/x`` → host)."""
    parts = urlsplit(url)
    if not parts.netloc or "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=host))


def _git(directory: Path, *args: str) -> str | None:
    out = _git_raw(directory, *args)
    return out.strip() if out is not None else None


def _git_raw(directory: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=directory,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=GIT_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        logger.debug("git %s failed: %s", args[0], exc)
        return None
    if done.returncode != 0:
        return None
    return done.stdout
