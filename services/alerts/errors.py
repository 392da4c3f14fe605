"""The errors of the alerts service.

    AlertsError
    ├── InvalidRequest       a channel, subscription, rule or switch that
    │                        cannot be stored as given (HTTP 422)
    ├── NotFound             an id that names nothing the caller may see (404)
    ├── SecretError          a secret that cannot be sealed or opened
    └── SendFailed           one delivery attempt that did not go through
"""

from __future__ import annotations


class AlertsError(Exception):
    """Base of the alerts service's errors."""


class InvalidRequest(AlertsError):
    """A configuration the service refuses; the message says what to fix."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class NotFound(AlertsError):
    def __init__(self, kind: str, ident: str) -> None:
        self.kind = kind
        self.ident = ident
        super().__init__(f"no {kind} {ident!r} that you may see")


class SecretError(AlertsError):
    """Sealing or opening a secret failed (wrong server key, damaged value)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"channel secret unusable: {reason}")


class SendFailed(AlertsError):
    """An attempt failed.

    Attributes:
        reason: what went wrong, free of secrets.
        permanent: retrying cannot help (the channel is misconfigured).
        retry_after: seconds the receiver asked us to wait, or None.
    """

    def __init__(
        self, reason: str, permanent: bool = False, retry_after: float | None = None
    ) -> None:
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after
        super().__init__(reason)
