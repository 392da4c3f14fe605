"""Who a stream acts as: the API key in its metadata, checked against accounts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

from ..common.accounts import AccountsView, Principal
from .errors import StreamRefused

# A key or membership made a moment ago may not have reached our copy of the
# accounts bucket yet; a failing check waits this long for it before refusing.
CATCH_UP_S = 1.0
_POLL_S = 0.05


def bearer_key(metadata: Iterable[tuple[str, str | bytes]] | None) -> str:
    """The API key of ``authorization: Bearer <key>``."""
    for name, value in metadata or ():
        if name.lower() != "authorization":
            continue
        text = value.decode() if isinstance(value, bytes) else value
        scheme, _, key = text.strip().partition(" ")
        if scheme.lower() == "bearer" and key.strip():
            return key.strip()
    raise StreamRefused(
        "unauthenticated",
        "no API key: send 'authorization: Bearer <key>' (run `lodestar login` "
        "or set LODESTAR_API_KEY)",
    )


async def authorize(
    view: AccountsView, api_key: str, entity: str
) -> tuple[Principal, str]:
    """The principal of `api_key` and the entity it writes to.

    Args:
        view: the accounts, kept current by a watch.
        api_key: the key the stream presented.
        entity: the entity asked for; empty means the user's own.

    Raises:
        StreamRefused: ``unauthenticated`` for an unknown key,
            ``permission_denied`` when the user is not a member of `entity`.
    """
    deadline = time.monotonic() + CATCH_UP_S
    while True:
        principal = view.authenticate(api_key)
        target = entity or (principal.default_entity if principal else "")
        if principal is not None and target in principal.entities:
            return principal, target
        if time.monotonic() >= deadline:
            raise _refusal(principal, target)
        await asyncio.sleep(_POLL_S)


def _refusal(principal: Principal | None, entity: str) -> StreamRefused:
    if principal is None:
        return StreamRefused(
            "unauthenticated", "the API key is unknown or revoked; create a new one"
        )
    return StreamRefused(
        "permission_denied",
        f"user {principal.user!r} is not a member of entity {entity!r}; ask an "
        "admin to add them, or log to one of: " + ", ".join(sorted(principal.entities)),
    )
