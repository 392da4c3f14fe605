"""Ingest's errors.

    IngestError
    ├── StreamRefused       the stream cannot go on; `code` is what the agent is told
    └── Unavailable         a store ingest depends on (NATS, the registry) failed;
                            the agent reconnects and replays

`StreamRefused.code` is one of the `StreamError` codes of ``ingest.proto``.
"""

from __future__ import annotations

CODES = (
    "unauthenticated",
    "permission_denied",
    "run_exists",
    "run_not_found",
    "run_active",
    "invalid",
)


class IngestError(Exception):
    """Base of ingest's errors."""


class StreamRefused(IngestError):
    """The stream is refused or ended; the agent must not retry it as is."""

    def __init__(self, code: str, message: str) -> None:
        if code not in CODES:
            raise ValueError(f"unknown stream error code {code!r}; use one of {CODES}")
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")


class Unavailable(IngestError):
    """A backing store failed; the stream ends and the agent retries."""

    def __init__(self, what: str, cause: BaseException) -> None:
        self.what = what
        self.cause = cause
        super().__init__(f"{what} failed: {cause!r}")
