"""Manifests: what a stored file or artifact is made of.

A file is stored as content-addressed chunks of `CHUNK_SIZE` bytes (the last
one shorter). Its `FileManifest` names the SHA-256 of the whole file, its
size, and the chunks' SHA-256s in order; a file of one chunk lists none, its
one chunk being the whole file. The manifest of an artifact is a JSON
document listing its entries by name; the artifact's digest is a SHA-256 over
the sorted names and content hashes, so identical content has one digest.

The platform and the SDK share this module: the service recomputes a digest
from the manifest it is given and checks every chunk it names.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..files import normalize_name

CHUNK_SIZE = 8 * 1024 * 1024
READ_BLOCK = 1024 * 1024
MANIFEST_VERSION = 1


@dataclass(frozen=True)
class FileManifest:
    """The SHA-256 and size of a file, and the chunks it is stored as."""

    sha256: str
    size: int
    chunks: tuple[str, ...] = ()

    @property
    def chunk_list(self) -> tuple[str, ...]:
        """Every chunk in order; a single-chunk file is its own chunk."""
        return self.chunks or (self.sha256,)

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"sha256": self.sha256, "size": self.size}
        if self.chunks:
            body["chunks"] = list(self.chunks)
        return body

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> FileManifest:
        return cls(str(body["sha256"]), int(body["size"]),
                   tuple(body.get("chunks") or ()))


def chunk_ranges(size: int) -> list[tuple[int, int]]:
    """``(offset, length)`` of each chunk of a file of `size` bytes."""
    if size == 0:
        return [(0, 0)]
    return [(start, min(CHUNK_SIZE, size - start))
            for start in range(0, size, CHUNK_SIZE)]


def describe_file(path: str | os.PathLike[str]) -> FileManifest:
    """Hash a file and its chunks in one pass, a block at a time."""
    whole = hashlib.sha256()
    chunks: list[str] = []
    size = 0
    with open(path, "rb") as handle:
        while True:
            chunk = hashlib.sha256()
            taken = 0
            while taken < CHUNK_SIZE:
                block = handle.read(min(READ_BLOCK, CHUNK_SIZE - taken))
                if not block:
                    break
                chunk.update(block)
                whole.update(block)
                taken += len(block)
            if taken:
                chunks.append(chunk.hexdigest())
                size += taken
            if taken < CHUNK_SIZE:
                break
    digest = whole.hexdigest()
    return FileManifest(digest, size, tuple(chunks) if len(chunks) > 1 else ())


def describe_bytes(data: bytes) -> FileManifest:
    """The manifest of content held in memory (small: manifests, media)."""
    chunks = [hashlib.sha256(data[o:o + n]).hexdigest()
              for o, n in chunk_ranges(len(data))]
    digest = hashlib.sha256(data).hexdigest()
    return FileManifest(digest, len(data), tuple(chunks) if len(chunks) > 1 else ())


@dataclass
class Entry:
    """One named entry of an artifact: stored content or a reference."""

    path: str
    sha256: str = ""
    size: int = 0
    chunks: tuple[str, ...] = ()
    ref: str = ""                  # s3://, file://, https:// (not copied)
    digest: str = ""               # of a reference: checksum or its URI
    local_path: str = ""           # where the content is on this machine
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def file(self) -> FileManifest:
        return FileManifest(self.sha256, self.size, self.chunks)

    @property
    def content_id(self) -> str:
        return self.sha256 if not self.ref else "ref:" + (self.digest or self.ref)

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"path": self.path, "size": self.size}
        if self.ref:
            body.update(ref=self.ref, digest=self.digest)
        else:
            body["sha256"] = self.sha256
            if self.chunks:
                body["chunks"] = list(self.chunks)
        if self.extra:
            body["extra"] = self.extra
        return body

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> Entry:
        return cls(
            path=normalize_name(body["path"]), sha256=str(body.get("sha256", "")),
            size=int(body.get("size", 0)), chunks=tuple(body.get("chunks") or ()),
            ref=str(body.get("ref", "")), digest=str(body.get("digest", "")),
            extra=dict(body.get("extra") or {}),
        )


def artifact_digest(entries: Iterable[Entry]) -> str:
    """SHA-256 over the sorted ``name<TAB>content`` lines of the entries."""
    digest = hashlib.sha256()
    for entry in sorted(entries, key=lambda e: e.path):
        digest.update(f"{entry.path}\t{entry.content_id}\n".encode())
    return digest.hexdigest()


def dump_manifest(entries: Iterable[Entry]) -> bytes:
    """The stored JSON form of an artifact's entries, sorted by name."""
    ordered = sorted(entries, key=lambda e: e.path)
    body = {"version": MANIFEST_VERSION, "entries": [e.to_dict() for e in ordered]}
    return json.dumps(body, separators=(",", ":")).encode()


def load_manifest(raw: bytes) -> dict[str, Entry]:
    """Entries by name from a stored manifest; names are checked again.

    Raises:
        ValueError: the document is not a manifest (`BadPath` for bad names).
    """
    body = json.loads(raw)
    if not isinstance(body, dict) or body.get("version") != MANIFEST_VERSION:
        raise ValueError("not a lodestar artifact manifest (version 1)")
    entries: dict[str, Entry] = {}
    for item in body.get("entries", []):
        entry = Entry.from_dict(item)
        if entry.path in entries:
            raise ValueError(f"the manifest names {entry.path!r} twice")
        entries[entry.path] = entry
    return entries
