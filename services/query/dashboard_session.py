"""Signing in to the dashboard: with an API key, or automatically on a local laptop.

The dashboard keeps the API key in the ``lodestar_key`` cookie (SameSite
Strict), which the query service accepts on reads; the page sends it as a
Bearer header on writes. Signing out clears it and sets ``lodestar_signed_out``
so that the automatic sign-in does not undo the user's choice.

Automatic sign-in is for the local profile only: while the platform has a
single user, a browser on the loopback address is that user. The service
makes one API key for it per process (labelled, visible to the admin
commands) and keeps it in memory. With a second user, everyone signs in.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import HTTPException, Request, Response

from ..common.accounts import Accounts, AccountsView, Principal
from .auth import COOKIE

SIGNED_OUT = "lodestar_signed_out"
LOCAL_LABEL = "dashboard sign-in from the loopback address"
COOKIE_MAX_AGE = 30 * 86400
LOOPBACK = ("127.0.0.1", "::1", "localhost")
VISIBLE_S = 5.0


def viewer(who: Principal) -> dict[str, Any]:
    return {"user": who.user, "admin": who.admin, "entities": sorted(who.entities),
            "default_entity": who.default_entity}


def sign_in(request: Request, response: Response, api_key: str) -> dict[str, Any]:
    """Check `api_key` and keep it in the cookie; 401 when it is not valid."""
    view: AccountsView = request.app.state.accounts
    if not view.ready.is_set():
        raise HTTPException(503, "the accounts are still loading; retry in a moment")
    who = view.authenticate(api_key.strip())
    if who is None:
        raise HTTPException(
            401, "unknown or revoked API key; create one with "
            "'lodestar server key create --user NAME'",
        )
    _set_key(response, api_key.strip())
    return viewer(who)


def sign_out(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/", samesite="strict")
    response.set_cookie(SIGNED_OUT, "1", path="/", samesite="strict",
                        max_age=COOKIE_MAX_AGE)


async def sign_in_locally(request: Request, response: Response) -> dict[str, Any]:
    """Sign in as the only user of a local platform; 403 where that is not so."""
    user = _local_user(request)
    keys: dict[str, str] | None = getattr(request.app.state, "local_keys", None)
    if keys is None:
        keys = request.app.state.local_keys = {}
    if user not in keys:
        writer: Accounts = request.app.state.accounts_writer
        keys[user] = await writer.create_key(user, LOCAL_LABEL)
    who = await _visible(request.app.state.accounts, keys[user])
    _set_key(response, keys[user])
    return viewer(who)


def _local_user(request: Request) -> str:
    view: AccountsView = request.app.state.accounts
    if not request.app.state.config.writer_embedded:
        raise HTTPException(403, "automatic sign-in is for the local profile only")
    if not _from_loopback(request):
        raise HTTPException(403, "automatic sign-in works from this machine only; "
                            "sign in with an API key")
    if len(view.users) != 1:
        raise HTTPException(403, "this platform has several users; sign in with "
                            "your API key")
    return next(iter(view.users))


def _from_loopback(request: Request) -> bool:
    forwarded = ("forwarded", "x-forwarded-for", "x-real-ip")
    if any(name in request.headers for name in forwarded):
        return False
    host = request.client.host if request.client else ""
    return host in LOOPBACK


async def _visible(view: AccountsView, api_key: str) -> Principal:
    """The key's principal once the watched copy of the accounts has it."""
    deadline = time.monotonic() + VISIBLE_S
    while True:
        who = view.authenticate(api_key)
        if who is not None:
            return who
        if time.monotonic() > deadline:
            raise HTTPException(503, "the new key is not visible yet; retry")
        await asyncio.sleep(0.05)


def _set_key(response: Response, api_key: str) -> None:
    response.set_cookie(COOKIE, api_key, path="/", samesite="strict",
                        max_age=COOKIE_MAX_AGE)
    response.delete_cookie(SIGNED_OUT, path="/", samesite="strict")
