"""Run files: how SDK code hands a file to the agent for upload.

The training process never uploads. To store a file, code writes it complete
under ``RUN_DIR/files/<relative path>`` and then queues a ``FileEntry{path}``
event through the run's writer thread. The agent, on reading that event,
uploads the file's content to the blob store, fills in ``sha256``, ``size``
and ``manifest_json``, and only then sends the event on to ingest.

    stage_bytes(run, "media/images/a.png", data)   # writes, then queues
    stage_file(run, "model.ckpt")                  # the file is already there

Every name goes through `normalize_name`, which the services use as well:
names are relative, ``/``-separated, and cannot climb out of a directory.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

from ._proto import events_pb2
from .errors import BadPath, UsageError

if TYPE_CHECKING:
    from ._run import Run

MAX_NAME = 1024
_COPY_BLOCK = 1 << 20


def normalize_name(name: object) -> str:
    """A file or entry name in its one stored spelling, or `BadPath`.

    ``./a//b/`` becomes ``a/b``. Refused: an empty name, one over 1,024
    characters, an absolute path or drive letter, a ``..`` segment, a
    backslash, and control characters (NUL included).

    Raises:
        BadPath: the name breaks one of the rules above.
    """
    if not isinstance(name, str) or not name:
        raise BadPath(name, "a name is a non-empty string")
    if len(name) > MAX_NAME:
        raise BadPath(name[:60] + "…", f"names are at most {MAX_NAME} characters")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise BadPath(name, "control characters are not allowed")
    if "\\" in name:
        raise BadPath(name, "use '/' to separate directories, not '\\'")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise BadPath(name, "names are relative to the run or artifact root")
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise BadPath(name, "'..' segments are not allowed")
    if not parts:
        raise BadPath(name, "the name has no file part")
    return "/".join(parts)


def local_path(root: str | os.PathLike[str], name: str) -> Path:
    """Where entry `name` lives under `root`, checked to stay inside it.

    Raises:
        BadPath: `name` is not allowed or resolves outside `root`.
    """
    base = Path(root).resolve()
    target = (base / normalize_name(name)).resolve()
    if target != base and base not in target.parents:
        raise BadPath(name, f"it resolves outside {base}")
    return target


def stage_file(run: Run, relative_path: str) -> None:
    """Queue the upload of ``RUN_DIR/files/<relative_path>``, written complete.

    Does nothing for a disabled or finished run.

    Raises:
        BadPath: `relative_path` could escape the run's files directory.
        UsageError: the file does not exist.
    """
    name = normalize_name(relative_path)
    files_dir = run.dir
    if not files_dir:
        return
    path = local_path(files_dir, name)
    if not path.is_file():
        raise UsageError(f"{path} does not exist; write the file before staging it")
    _queue(run, name)


def stage_bytes(run: Run, relative_path: str, data: bytes) -> str:
    """Write `data` to ``RUN_DIR/files/<relative_path>`` and queue its upload.

    The file appears under its name only once complete (written beside it,
    then renamed). Returns the SHA-256 of `data` as 64 hex characters, also
    for a disabled run, which stores nothing.

    Raises:
        BadPath: `relative_path` could escape the run's files directory.
    """
    name = normalize_name(relative_path)
    digest = hashlib.sha256(data).hexdigest()
    files_dir = run.dir
    if not files_dir:
        return digest
    path = local_path(files_dir, name)
    write_atomic(path, data)
    _queue(run, name)
    return digest


def stage_deleted(run: Run, relative_path: str) -> None:
    """Queue a ``FileEntry{deleted}``: the run's file of that name is gone.

    Raises:
        BadPath: `relative_path` is not an allowed name.
    """
    name = normalize_name(relative_path)
    run._record_event("file", events_pb2.FileEntry(path=name, deleted=True))


def _queue(run: Run, name: str) -> None:
    if run._record_event("file", events_pb2.FileEntry(path=name)):
        watcher = getattr(run, "_file_watcher", None)
        if watcher is not None:
            watcher.staged(name)  # so that finish() does not send it again


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def sha256_file(path: str | os.PathLike[str]) -> tuple[str, int]:
    """The SHA-256 (hex) and size of a file, read a block at a time."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while block := handle.read(_COPY_BLOCK):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size
