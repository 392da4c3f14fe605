"""The artifacts service's errors.

    ArtifactsError
    ├── BlobMissing        a chunk the entity does not hold (or never verified)
    ├── BadRequest         a request that breaks a rule; the message says which
    ├── NotFound           an artifact, version or alias that does not exist
    ├── Conflict           a compare-and-set that kept losing; retry
    └── StoreUnavailable   S3 or NATS did not answer in time

Routes turn them into HTTP statuses in one place (`app.py`).
"""

from __future__ import annotations


class ArtifactsError(Exception):
    """Base of the artifacts service's errors."""

    status = 500


class BlobMissing(ArtifactsError):
    status = 404

    def __init__(self, entity: str, sha256: str) -> None:
        self.entity = entity
        self.sha256 = sha256
        super().__init__(
            f"entity {entity!r} holds no blob {sha256}; upload it first"
        )


class BadRequest(ArtifactsError):
    status = 422


class NotFound(ArtifactsError):
    status = 404


class Conflict(ArtifactsError):
    status = 409


class StoreUnavailable(ArtifactsError):
    status = 503
