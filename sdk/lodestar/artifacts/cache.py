"""The local cache of downloaded content, one file per SHA-256.

``$LODESTAR_CACHE_DIR`` (default ``~/.cache/lodestar``) holds
``artifacts/sha256/<aa>/<sha256>``. Content reaches the cache only after its
hash was checked, so a cached file is trusted by its name and size;
downloads copy from it, and `Artifact.verify` checks what was copied.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from .manifest import FileManifest

Fetch = Callable[[FileManifest, Path], None]


def default_cache_dir() -> Path:
    base = os.environ.get("LODESTAR_CACHE_DIR")
    return Path(base) if base else Path.home() / ".cache" / "lodestar"


class BlobCache:
    """Content by hash under one directory."""

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root) if root else default_cache_dir()

    def path_for(self, sha: str) -> Path:
        return self.root / "artifacts" / "sha256" / sha[:2] / sha

    def ensure(self, manifest: FileManifest, fetch: Fetch) -> Path:
        """The cached copy of `manifest`'s content, fetched when missing."""
        path = self.path_for(manifest.sha256)
        if path.is_file() and path.stat().st_size == manifest.size:
            return path
        fetch(manifest, path)
        return path
