"""Content-addressed chunks in S3, one namespace per entity.

Layout in the bucket::

    blobs/<entity>/<sha[:2]>/<sha256>    verified chunks: addressable
    uploads/<entity>/<sha256>            uploaded, not yet checked

Clients PUT chunks straight to S3 through URLs signed here, always to the
staging key. `BlobStore.commit` then reads each staged object, hashes it,
and only when the hash matches its name copies it to its ``blobs/`` key.
So a chunk is addressable only after the server checked it, and an entity can
only ever address chunks under its own prefix: knowing a hash of another
entity's data grants nothing. A staged object survives a failed client, so
an upload resumes chunk by chunk.

Every read streams in blocks; no chunk is held whole in memory.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

import urllib3
from minio import Minio
from minio.commonconfig import CopySource
from minio.deleteobjects import DeleteObject
from minio.error import MinioException, S3Error

from ..common.config import PlatformConfig
from .errors import BadRequest, BlobMissing, StoreUnavailable

logger = logging.getLogger(__name__)

SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_CHUNK = 64 * 1024 * 1024
URL_TTL = timedelta(hours=2)
READ_BLOCK = 1024 * 1024
VERIFY_THREADS = 8
SMALL_OBJECT = 1024 * 1024
S3_TIMEOUT_S = 30.0
_KNOWN_LIMIT = 2_000_000


@dataclass(frozen=True)
class Staged:
    """A chunk the client still has to PUT (or only to commit, if staged)."""

    sha256: str
    url: str
    staged: bool


def check_sha(value: object) -> str:
    """`value` as a lowercase SHA-256 hex digest.

    Raises:
        BadRequest: it is not 64 hex characters.
    """
    if not isinstance(value, str) or not SHA256.match(value):
        raise BadRequest(f"{value!r} is not a SHA-256 digest (64 lowercase hex)")
    return value


def chunk_key(entity: str, sha: str) -> str:
    return f"blobs/{entity}/{sha[:2]}/{sha}"


def staging_key(entity: str, sha: str) -> str:
    return f"uploads/{entity}/{sha}"


def make_client(config: PlatformConfig) -> Minio:
    """A minio client with bounded timeouts and a fixed region (no look-up)."""
    timeout = urllib3.Timeout(connect=5.0, read=S3_TIMEOUT_S)
    pool = urllib3.PoolManager(
        timeout=timeout, maxsize=16,
        retries=urllib3.Retry(total=3, backoff_factor=0.2,
                              status_forcelist=[500, 502, 503, 504]),
    )
    return Minio(
        config.s3_endpoint, access_key=config.s3_access_key,
        secret_key=config.s3_secret_key, secure=config.s3_secure,
        region="us-east-1", http_client=pool,
    )


class BlobStore:
    """The entity-scoped chunk store over one S3 bucket."""

    def __init__(self, config: PlatformConfig, client: Minio | None = None) -> None:
        self.bucket = config.s3_bucket
        self.client = client or make_client(config)
        self._known: set[tuple[str, str]] = set()
        self._pool = ThreadPoolExecutor(VERIFY_THREADS, "blob-verify")

    def close(self) -> None:
        self._pool.shutdown(wait=False)

    # ---- presence --------------------------------------------------------

    def has(self, entity: str, sha: str) -> bool:
        """Whether `entity` holds the verified chunk `sha`."""
        if (entity, sha) in self._known:
            return True
        found = self._exists(chunk_key(entity, sha))
        if found:
            self._remember(entity, sha)
        return found

    def missing(self, entity: str, shas: Iterable[str]) -> list[str]:
        """The chunks of `shas` that `entity` does not hold, in order."""
        unique = list(dict.fromkeys(shas))
        present = list(self._pool.map(lambda s: self.has(entity, s), unique))
        return [sha for sha, ok in zip(unique, present, strict=True) if not ok]

    def _exists(self, key: str) -> bool:
        try:
            self.client.stat_object(self.bucket, key)
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject", "NotFound"):
                return False
            raise StoreUnavailable(f"S3 stat of {key} failed: {exc}") from exc
        except (MinioException, urllib3.exceptions.HTTPError) as exc:
            raise StoreUnavailable(f"S3 did not answer: {exc}") from exc
        return True

    def _remember(self, entity: str, sha: str) -> None:
        if len(self._known) > _KNOWN_LIMIT:
            self._known.clear()
        self._known.add((entity, sha))

    def forget(self, entity: str, sha: str) -> None:
        self._known.discard((entity, sha))

    # ---- uploads ---------------------------------------------------------

    def prepare(self, entity: str, shas: list[str]) -> list[Staged]:
        """Signed PUT URLs for the chunks of `shas` that `entity` lacks."""
        wanted = self.missing(entity, shas)
        staged = self._pool.map(lambda s: self._exists(staging_key(entity, s)), wanted)
        return [
            Staged(sha, self._sign("PUT", staging_key(entity, sha)), is_staged)
            for sha, is_staged in zip(wanted, staged, strict=True)
        ]

    def commit(self, entity: str, shas: list[str]) -> dict[str, str]:
        """Check staged chunks and make the good ones addressable.

        Returns:
            For each chunk that did not become addressable, why not.
        """
        unique = list(dict.fromkeys(shas))
        results = list(self._pool.map(lambda s: self._commit_one(entity, s), unique))
        failed = {sha: why for sha, why in zip(unique, results, strict=True) if why}
        done = [sha for sha, why in zip(unique, results, strict=True) if not why]
        self._delete([staging_key(entity, sha) for sha in done])
        return failed

    def _commit_one(self, entity: str, sha: str) -> str:
        if (entity, sha) in self._known:
            return ""
        key = staging_key(entity, sha)
        try:
            actual, size, small = self._hash_object(key)
        except BlobMissing:
            return "" if self.has(entity, sha) else "not uploaded"
        if actual != sha:
            logger.warning("staged chunk %s of %s hashes to %s; dropped",
                           sha, entity, actual)
            self._delete([key])
            return f"content hashes to {actual}, not {sha}"
        if size > MAX_CHUNK:
            self._delete([key])
            return f"chunk of {size} bytes is over the {MAX_CHUNK} byte limit"
        if small is not None:  # already in memory: one PUT beats a copy
            self._put(chunk_key(entity, sha), small)
        else:
            self._copy(key, chunk_key(entity, sha))
        self._remember(entity, sha)
        return ""

    def _hash_object(self, key: str) -> tuple[str, int, bytes | None]:
        """SHA-256 and size of an object; its bytes too when it is small."""
        digest = hashlib.sha256()
        size = 0
        kept: list[bytes] | None = []
        for block in self._stream(key):
            digest.update(block)
            size += len(block)
            if kept is not None:
                kept.append(block)
                if size > SMALL_OBJECT:
                    kept = None
        return digest.hexdigest(), size, None if kept is None else b"".join(kept)

    def _copy(self, source: str, target: str) -> None:
        try:
            source_ref = CopySource(self.bucket, source)
            self.client.copy_object(self.bucket, target, source_ref)
        except (MinioException, urllib3.exceptions.HTTPError) as exc:
            raise StoreUnavailable(f"S3 copy to {target} failed: {exc}") from exc

    # ---- downloads -------------------------------------------------------

    def download_urls(self, entity: str, shas: list[str]) -> dict[str, str]:
        """Signed GET URLs for chunks `entity` holds.

        Raises:
            BlobMissing: one of them is not held by `entity`.
        """
        unique = list(dict.fromkeys(shas))
        absent = self.missing(entity, unique)
        if absent:
            raise BlobMissing(entity, absent[0])
        return {sha: self._sign("GET", chunk_key(entity, sha)) for sha in unique}

    def read_chunks(self, entity: str, shas: list[str]) -> Iterator[bytes]:
        """The content of chunks held by `entity`, in blocks, in order."""
        for sha in shas:
            yield from self._stream(chunk_key(entity, sha))

    def _put(self, key: str, data: bytes) -> None:
        try:
            self.client.put_object(self.bucket, key, io.BytesIO(data), len(data))
        except (MinioException, urllib3.exceptions.HTTPError) as exc:
            raise StoreUnavailable(f"S3 put of {key} failed: {exc}") from exc

    def _stream(self, key: str) -> Iterator[bytes]:
        try:
            response = self.client.get_object(self.bucket, key)
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject", "NotFound"):
                raise BlobMissing(key.split("/")[1], key.rsplit("/", 1)[-1]) from exc
            raise StoreUnavailable(f"S3 read of {key} failed: {exc}") from exc
        except (MinioException, urllib3.exceptions.HTTPError) as exc:
            raise StoreUnavailable(f"S3 did not answer: {exc}") from exc
        try:
            yield from response.stream(READ_BLOCK)
        finally:
            response.close()
            response.release_conn()

    def _sign(self, method: str, key: str) -> str:
        if method == "PUT":
            return self.client.presigned_put_object(self.bucket, key, URL_TTL)
        return self.client.presigned_get_object(self.bucket, key, URL_TTL)

    # ---- listing and removal (garbage collection) ------------------------

    def list_chunks(self, entity: str) -> Iterator[tuple[str, datetime | None]]:
        """Every verified chunk of `entity` with its time of storage."""
        yield from self._list(f"blobs/{entity}/")

    def list_staged(self, entity: str) -> Iterator[tuple[str, datetime | None]]:
        yield from self._list(f"uploads/{entity}/")

    def entities(self) -> list[str]:
        """The entities that hold any chunk."""
        found = self.client.list_objects(self.bucket, prefix="blobs/")
        return [obj.object_name.split("/")[1] for obj in found if obj.is_dir]

    def _list(self, prefix: str) -> Iterator[tuple[str, datetime | None]]:
        try:
            for obj in self.client.list_objects(self.bucket, prefix=prefix,
                                                recursive=True):
                name = obj.object_name.rsplit("/", 1)[-1]
                if SHA256.match(name):
                    yield name, obj.last_modified
        except (MinioException, urllib3.exceptions.HTTPError) as exc:
            raise StoreUnavailable(f"S3 listing of {prefix} failed: {exc}") from exc

    def remove_chunks(self, entity: str, shas: list[str]) -> None:
        for sha in shas:
            self.forget(entity, sha)
        self._delete([chunk_key(entity, sha) for sha in shas])

    def remove_staged(self, entity: str, shas: list[str]) -> None:
        self._delete([staging_key(entity, sha) for sha in shas])

    def _delete(self, keys: list[str]) -> None:
        for start in range(0, len(keys), 1000):
            batch = [DeleteObject(key) for key in keys[start:start + 1000]]
            try:
                for error in self.client.remove_objects(self.bucket, batch):
                    logger.warning("could not delete %s: %s", error.name, error)
            except (MinioException, urllib3.exceptions.HTTPError) as exc:
                raise StoreUnavailable(f"S3 delete failed: {exc}") from exc
