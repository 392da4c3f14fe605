"""Artifacts logged by a training process, staged in its run directory.

``log_artifact`` never uploads. It copies each file's content (while hashing
it) to ``RUN_DIR/artifacts/staging/<sha256>``, so later changes to the
user's files cannot alter what was logged, writes the entry list to
``RUN_DIR/artifacts/pending/<id>.json``, and queues an `ArtifactEvent` whose
``manifest_json`` is ``{"pending": "<id>"}``. The agent uploads, asks the
service for the version, and writes the answer to
``RUN_DIR/artifacts/logged/<id>.json``.

    RUN_DIR/artifacts/staging/<sha256>      content, one copy per hash
    RUN_DIR/artifacts/pending/<id>.json     what the agent must log
    RUN_DIR/artifacts/logged/<id>.json      the version (or the refusal)
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

from .manifest import READ_BLOCK, Entry

STAGING_DIR = "artifacts/staging"
PENDING_DIR = "artifacts/pending"
LOGGED_DIR = "artifacts/logged"
_CLIENT_ID = re.compile(r"^[0-9a-f]{32}$")


def copy_hashed(source: str | os.PathLike[str], run_dir: Path) -> tuple[str, int, str]:
    """Copy `source` into the staging area while hashing it.

    Returns:
        The SHA-256, the size, and the copy's path relative to `run_dir`.
    """
    folder = run_dir / STAGING_DIR
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".copy-{os.getpid()}-{os.urandom(4).hex()}"
    digest = hashlib.sha256()
    size = 0
    with open(source, "rb") as reader, open(tmp, "wb") as writer:
        while block := reader.read(READ_BLOCK):
            digest.update(block)
            writer.write(block)
            size += len(block)
    sha = digest.hexdigest()
    target = folder / sha
    if target.exists():
        tmp.unlink()
    else:
        os.replace(tmp, target)
    return sha, size, f"{STAGING_DIR}/{sha}"


def hash_file(source: str | os.PathLike[str]) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(source, "rb") as reader:
        while block := reader.read(READ_BLOCK):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def write_pending(
    run_dir: Path, client_id: str, document: dict[str, Any]
) -> str:
    """Write the pending document; returns the event's ``manifest_json``."""
    folder = run_dir / PENDING_DIR
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{client_id}.tmp"
    tmp.write_text(json.dumps(document))
    os.replace(tmp, folder / f"{client_id}.json")
    return json.dumps({"pending": client_id})


def pending_id(manifest_json: str) -> str | None:
    """The client id an event's ``{"pending": id}`` names, if it is well formed."""
    try:
        found = json.loads(manifest_json or "{}")
    except ValueError:
        return None
    client_id = found.get("pending", "") if isinstance(found, dict) else ""
    if not isinstance(client_id, str) or not _CLIENT_ID.match(client_id):
        return None
    return client_id


def read_pending(run_dir: Path, manifest_json: str) -> dict[str, Any] | None:
    """The pending document an event points at, or None when there is none."""
    client_id = pending_id(manifest_json)
    if client_id is None:
        return None
    path = run_dir / PENDING_DIR / f"{client_id}.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def read_logged(run_dir: Path, client_id: str) -> dict[str, Any] | None:
    try:
        return json.loads((run_dir / LOGGED_DIR / f"{client_id}.json").read_text())
    except (OSError, ValueError):
        return None


def pending_entry(entry: Entry, local: str) -> dict[str, Any]:
    body = entry.to_dict()
    if local:
        body["local"] = local
    return body
