"""Slack incoming webhooks.

A 2xx answer is delivered. 429 carries ``Retry-After`` (seconds), which the
dispatcher honours for the whole channel; 5xx and network errors are retried
with backoff; any other 4xx means the webhook URL is wrong or revoked, and
retrying cannot help. Error messages name the host only: the rest of a
webhook URL is a secret.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.parse
import urllib.request
from email.message import Message
from typing import Any

from .errors import SendFailed

_BODY_LIMIT = 200


async def send(url: str, payload: dict[str, Any], timeout_s: float) -> None:
    """POST `payload` to webhook `url`.

    Raises:
        SendFailed: the attempt did not go through.
    """
    body = json.dumps(payload).encode("utf-8")
    await asyncio.to_thread(_post, url, body, timeout_s)


def _post(url: str, body: bytes, timeout_s: float) -> None:
    host = urllib.parse.urlsplit(url).hostname or "the webhook host"
    request = urllib.request.Request(
        url, data=body, method="POST",
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as reply:
            reply.read(1024)
    except urllib.error.HTTPError as exc:
        raise _refused(exc, host) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SendFailed(f"cannot reach {host}: {reason}") from None


def _refused(exc: urllib.error.HTTPError, host: str) -> SendFailed:
    try:
        said = exc.read(_BODY_LIMIT).decode("utf-8", "replace").strip()
    except OSError:
        said = ""
    detail = f"{host} answered HTTP {exc.code}" + (f" ({said})" if said else "")
    if exc.code == 429:
        return SendFailed(detail, retry_after=retry_after(exc.headers))
    if exc.code >= 500 or exc.code == 408:
        return SendFailed(detail)
    return SendFailed(
        f"{detail}: the webhook URL is wrong or revoked; add the channel again "
        "with a working URL", permanent=True,
    )


def retry_after(headers: Message | None) -> float | None:
    """Seconds from a ``Retry-After`` header (seconds form), if present."""
    value = headers.get("Retry-After") if headers is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
