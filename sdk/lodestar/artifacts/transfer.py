"""Moving content between this machine and the blob store.

`BlobClient` talks to the artifacts service (JSON over HTTP) and to S3
through the URLs the service signs. Uploads go chunk by chunk: the service
says which chunks its entity lacks, each missing chunk is PUT straight from
its file (streamed, never read whole), and a commit asks the service to
check the hashes. A chunk that failed is PUT again; a chunk already staged by
an earlier, interrupted upload is only committed. Downloads fetch chunks in
parallel into a ``.part`` file at their offsets, check each chunk's hash as it
streams, check the whole file, and rename. Memory stays at a few blocks per
worker whatever the file size.

This module opens sockets: in a training process it runs only in the agent or
in a short-lived helper process (see `lodestar.artifacts.courier`).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import os
import threading
import time
import urllib.parse
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ApiError, CommError
from .manifest import CHUNK_SIZE, READ_BLOCK, FileManifest, describe_bytes

logger = logging.getLogger(__name__)

PREPARE_BATCH = 1000
COMMIT_CHUNKS = 500
COMMIT_BYTES = 256 * 1024 * 1024
ATTEMPTS = 5
BACKOFF_S = 0.2
WORKERS = 8
TIMEOUT_S = 60.0


class ChunkFailed(CommError):
    """A chunk could not be moved after every retry."""

    def __init__(self, sha256: str, reason: str) -> None:
        self.sha256 = sha256
        self.reason = reason
        super().__init__(f"chunk {sha256[:12]}…: {reason}")


@dataclass(frozen=True)
class Source:
    """Where a chunk's bytes are: a slice of a file, or bytes in memory."""

    path: str
    offset: int
    length: int
    data: bytes | None = None


class BlobClient:
    """Uploads and downloads for one entity store, through one service URL.

    Args:
        artifacts_url: the artifacts service (``http://host:port``).
        api_key: sent as ``Authorization: Bearer``.
        timeout: seconds for each HTTP call (chunk transfers included).
        workers: chunks moved at once.
    """

    def __init__(
        self, artifacts_url: str, api_key: str | None, timeout: float = TIMEOUT_S,
        workers: int = WORKERS,
    ) -> None:
        self.base_url = artifacts_url.rstrip("/")
        self._api_key = api_key
        self._timeout = timeout
        self._workers = workers
        self._local = threading.local()
        self.chunks_sent = 0

    # ---- JSON calls --------------------------------------------------------

    def call(self, method: str, path: str, body: Any = None) -> Any:
        """One JSON request to the artifacts service.

        Raises:
            ApiError: the service answered with an error status.
            CommError: it could not be reached.
        """
        data = None if body is None else json.dumps(body).encode()
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        url = self.base_url + path
        status, payload = self._request(method, url, data, headers)
        if status >= 400:
            raise ApiError(status, _detail(payload), url)
        return json.loads(payload) if payload else None

    # ---- uploads -----------------------------------------------------------

    def upload_files(
        self, entity: str, files: Iterable[tuple[str, FileManifest]]
    ) -> None:
        """Make every chunk of the described files stored in `entity`'s store."""
        sources: dict[str, Source] = {}
        for path, manifest in files:
            offsets = _chunk_offsets(manifest)
            for sha, (offset, length) in zip(manifest.chunk_list, offsets,
                                             strict=True):
                sources.setdefault(sha, Source(path, offset, length))
        self._upload_sources(entity, sources)

    def upload_bytes(self, entity: str, data: bytes) -> FileManifest:
        """Store content held in memory (manifests, small media)."""
        manifest = describe_bytes(data)
        sources = {}
        for sha, (offset, length) in zip(manifest.chunk_list,
                                         _chunk_offsets(manifest), strict=True):
            sources[sha] = Source("", offset, length, data)
        self._upload_sources(entity, sources)
        return manifest

    def _upload_sources(self, entity: str, sources: dict[str, Source]) -> None:
        order = list(sources)
        for start in range(0, len(order), PREPARE_BATCH):
            batch = {sha: sources[sha] for sha in order[start:start + PREPARE_BATCH]}
            self._upload_batch(entity, batch)

    def _upload_batch(self, entity: str, sources: dict[str, Source]) -> None:
        for attempt in range(ATTEMPTS):
            answer = self.call("POST", f"/api/v1/blobs/{_q(entity)}/prepare",
                               {"chunks": list(sources)})
            missing = answer["missing"]
            if not missing:
                return
            failed = self._put_and_commit(entity, missing, sources, attempt > 0)
            if not failed:
                return
            logger.warning("%d chunks not accepted (%s); uploading them again",
                           len(failed), next(iter(failed.values())))
            sources = {sha: sources[sha] for sha in failed}
            time.sleep(BACKOFF_S * 2 ** attempt)
        sha, reason = next(iter(failed.items()))
        raise ChunkFailed(sha, reason)

    def _put_and_commit(
        self, entity: str, missing: list[dict[str, Any]],
        sources: dict[str, Source], force_put: bool,
    ) -> dict[str, str]:
        failed: dict[str, str] = {}
        with ThreadPoolExecutor(self._workers) as pool:
            for group in _commit_groups(missing, sources):
                todo = [m for m in group if force_put or not m["staged"]]
                list(pool.map(lambda m: self._put(m["url"], sources[m["sha256"]]),
                              todo))
                shas = [m["sha256"] for m in group]
                answer = self.call("POST", f"/api/v1/blobs/{_q(entity)}/commit",
                                   {"chunks": shas})
                failed.update(answer["failed"])
        return failed

    def _put(self, url: str, source: Source) -> None:
        for attempt in range(ATTEMPTS):
            try:
                with _open_source(source) as body:
                    status, payload = self._request(
                        "PUT", url, body, {"Content-Length": str(source.length)}
                    )
            except CommError:
                if attempt == ATTEMPTS - 1:
                    raise
                status, payload = 0, b""
            if 200 <= status < 300:
                self.chunks_sent += 1
                return
            if 400 <= status < 500:
                raise ApiError(status, f"S3 refused a chunk: {payload[:200]!r}", url)
            time.sleep(BACKOFF_S * 2 ** attempt)
        raise CommError(f"S3 kept failing for a chunk of {source.path or 'memory'}")

    # ---- downloads ---------------------------------------------------------

    def download_file(self, entity: str, manifest: FileManifest, dest: Path) -> None:
        """Fetch a stored file to `dest` (atomically), checking every hash.

        Raises:
            CommError: a chunk or the whole file did not match its hash.
            ApiError: the entity does not hold the content.
        """
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = dest.with_name(f".{dest.name}.{os.getpid()}.part")
        urls = self.chunk_urls(entity, list(dict.fromkeys(manifest.chunk_list)))
        offsets = _chunk_offsets(manifest)
        jobs = list(zip(manifest.chunk_list, offsets, strict=True))
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.ftruncate(fd, manifest.size)
            with ThreadPoolExecutor(self._workers) as pool:
                list(pool.map(lambda j: self._fetch(urls[j[0]], j[0], j[1], fd), jobs))
        finally:
            os.close(fd)
        if manifest.chunks and _hash_file(part) != manifest.sha256:
            part.unlink(missing_ok=True)
            raise CommError(f"{dest.name}: the file does not match {manifest.sha256}")
        os.replace(part, dest)

    def read_bytes(self, entity: str, manifest: FileManifest) -> bytes:
        """Fetch small stored content (a manifest) into memory, checked."""
        urls = self.chunk_urls(entity, list(dict.fromkeys(manifest.chunk_list)))
        data = b"".join(self._get_chunk(urls[sha], sha) for sha in manifest.chunk_list)
        if hashlib.sha256(data).hexdigest() != manifest.sha256:
            raise CommError(f"content does not match {manifest.sha256}")
        return data

    def chunk_urls(self, entity: str, shas: list[str]) -> dict[str, str]:
        urls: dict[str, str] = {}
        for start in range(0, len(shas), PREPARE_BATCH):
            answer = self.call("POST", f"/api/v1/blobs/{_q(entity)}/urls",
                               {"chunks": shas[start:start + PREPARE_BATCH]})
            urls.update(answer["urls"])
        return urls

    def _fetch(self, url: str, sha: str, span: tuple[int, int], fd: int) -> None:
        offset, _length = span
        for attempt in range(ATTEMPTS):
            try:
                self._stream_to(url, sha, offset, fd)
                return
            except CommError as exc:
                if attempt == ATTEMPTS - 1:
                    raise ChunkFailed(sha, str(exc)) from exc
                logger.warning("chunk %s: %s; fetching it again", sha[:12], exc)
                time.sleep(BACKOFF_S * 2 ** attempt)

    def _stream_to(self, url: str, sha: str, offset: int, fd: int) -> None:
        digest = hashlib.sha256()
        position = offset
        for block in self._get_blocks(url):
            digest.update(block)
            os.pwrite(fd, block, position)
            position += len(block)
        if digest.hexdigest() != sha:
            raise CommError(f"downloaded content hashes to {digest.hexdigest()}")

    def _get_chunk(self, url: str, sha: str) -> bytes:
        data = b"".join(self._get_blocks(url))
        if hashlib.sha256(data).hexdigest() != sha:
            raise CommError(f"chunk {sha[:12]}… arrived damaged")
        return data

    def _get_blocks(self, url: str) -> Iterator[bytes]:
        response = self._open_get(url)
        try:
            if response.status != 200:
                body = response.read()
                raise CommError(f"S3 answered {response.status}: {body[:200]!r}")
            while block := response.read(READ_BLOCK):
                yield block
        except (OSError, http.client.HTTPException) as exc:
            self._drop_connection(url)
            raise CommError(f"transfer from S3 failed: {exc}") from exc

    # ---- HTTP --------------------------------------------------------------

    def _open_get(self, url: str) -> http.client.HTTPResponse:
        for fresh in (self._has_connection(url), True):
            conn, target = self._connection(url)
            try:
                conn.request("GET", target)
                return conn.getresponse()
            except (OSError, http.client.HTTPException) as exc:
                self._drop_connection(url)
                if fresh:
                    raise CommError(f"transfer from S3 failed: {exc}") from exc
        raise AssertionError("unreachable")

    def _request(
        self, method: str, url: str, body: Any, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        # A kept-alive connection the server closed while we were busy fails
        # at once; every request here is idempotent, so it gets a fresh one.
        for fresh in (self._has_connection(url), True):
            conn, target = self._connection(url)
            try:
                conn.request(method, target, body=body, headers=headers)
                response = conn.getresponse()
                return response.status, response.read()
            except (OSError, http.client.HTTPException) as exc:
                self._drop_connection(url)
                if fresh or (hasattr(body, "read") and not hasattr(body, "seek")):
                    raise CommError(f"cannot reach {url.split('?')[0]}: {exc}") from exc
                if hasattr(body, "seek"):
                    body.seek(0)
        raise AssertionError("unreachable")

    def _has_connection(self, url: str) -> bool:
        """False when a kept-alive connection to `url`'s host would be reused."""
        parts = urllib.parse.urlsplit(url)
        pool = self._local.__dict__.get("pool", {})
        return (parts.scheme, parts.netloc) not in pool

    def _connection(self, url: str) -> tuple[http.client.HTTPConnection, str]:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise CommError(f"cannot transfer through {parts.scheme!r} URLs")
        pool = self._local.__dict__.setdefault("pool", {})
        key = (parts.scheme, parts.netloc)
        conn = pool.get(key)
        if conn is None:
            kind = (http.client.HTTPSConnection if parts.scheme == "https"
                    else http.client.HTTPConnection)
            conn = kind(parts.netloc, timeout=self._timeout, blocksize=READ_BLOCK)
            pool[key] = conn
        target = parts.path + ("?" + parts.query if parts.query else "")
        return conn, target

    def _drop_connection(self, url: str) -> None:
        parts = urllib.parse.urlsplit(url)
        pool = self._local.__dict__.get("pool", {})
        conn = pool.pop((parts.scheme, parts.netloc), None)
        if conn is not None:
            conn.close()


class _SliceReader:
    """A file-like view of `length` bytes of a file from `offset`."""

    def __init__(self, path: str, offset: int, length: int) -> None:
        self._handle = open(path, "rb")  # noqa: SIM115 - closed by __exit__
        self._offset = offset
        self._length = length
        self.seek(0)

    def seek(self, position: int) -> None:
        self._handle.seek(self._offset + position)
        self._left = self._length - position

    def read(self, size: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        size = self._left if size is None or size < 0 else min(size, self._left)
        block = self._handle.read(size)
        self._left -= len(block)
        return block

    def __enter__(self) -> _SliceReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self._handle.close()


class _BytesSlice:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def __enter__(self) -> bytes:
        return self.data

    def __exit__(self, *exc: object) -> None:
        return None


def _open_source(source: Source) -> Any:
    if source.data is not None:
        return _BytesSlice(source.data[source.offset:source.offset + source.length])
    return _SliceReader(source.path, source.offset, source.length)


def _commit_groups(
    missing: list[dict[str, Any]], sources: dict[str, Source]
) -> Iterator[list[dict[str, Any]]]:
    """Missing chunks in groups the service checks in one commit call."""
    group: list[dict[str, Any]] = []
    size = 0
    for item in missing:
        length = sources[item["sha256"]].length
        if group and (len(group) >= COMMIT_CHUNKS or size + length > COMMIT_BYTES):
            yield group
            group, size = [], 0
        group.append(item)
        size += length
    if group:
        yield group


def _chunk_offsets(manifest: FileManifest) -> list[tuple[int, int]]:
    count = len(manifest.chunk_list)
    if count == 1:
        return [(0, manifest.size)]
    return [(i * CHUNK_SIZE, min(CHUNK_SIZE, manifest.size - i * CHUNK_SIZE))
            for i in range(count)]


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(READ_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _detail(payload: bytes) -> str:
    try:
        detail = json.loads(payload).get("detail")
    except (ValueError, AttributeError):
        detail = None
    if isinstance(detail, list):
        detail = "; ".join(str(d.get("msg")) for d in detail if isinstance(d, dict))
    return str(detail or payload[:200].decode(errors="replace"))


def _q(name: str) -> str:
    return urllib.parse.quote(name, safe="")
