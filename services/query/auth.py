"""API-key authentication against the accounts bucket's in-memory view.

A request names its key in ``Authorization: Bearer <key>``. The dashboard
page may instead keep it in the ``lodestar_key`` cookie, which is accepted on
reads (GET) only, so a page elsewhere cannot make a browser change anything.
"""

from __future__ import annotations

from fastapi import HTTPException, Request

from ..common.accounts import AccountsView, Principal

COOKIE = "lodestar_key"


def principal(request: Request) -> Principal:
    """The caller, or 401/503 with what to do about it."""
    view: AccountsView = request.app.state.accounts
    if not view.ready.is_set():
        raise HTTPException(503, "the accounts are still loading; retry in a moment")
    api_key = _key_of(request)
    if not api_key:
        raise HTTPException(
            401, "no API key: send 'Authorization: Bearer <key>' "
            "(create one with 'lodestar server key create --user NAME')",
        )
    found = view.authenticate(api_key)
    if found is None:
        raise HTTPException(401, "unknown or revoked API key; log in again")
    return found


def require_entity(who: Principal, entity: str) -> None:
    if not who.can_access(entity):
        raise HTTPException(
            403, f"user {who.user!r} is not a member of entity {entity!r}; "
            "ask an admin to add you with 'lodestar server team add'",
        )


def require_admin(who: Principal) -> None:
    if not who.admin:
        raise HTTPException(403, f"user {who.user!r} is not an admin")


def _key_of(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    if request.method == "GET":
        return request.cookies.get(COOKIE, "")
    return ""
