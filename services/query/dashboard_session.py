"""Signing in to the dashboard: with an API key, or automatically on a local laptop.

The dashboard keeps the API key in the ``lodestar_key`` cookie (SameSite
Strict), which the query service accepts on reads; the page sends it as a
Bearer header on writes. Signing out clears it and sets ``lodestar_signed_out``
so that the automatic sign-in does not undo the user's choice.

Automatic sign-in is for the local profile only: while the platform has a
single user, a browser on the loopback address is that user. Its key is
derived from the platform's ``server_secret`` and the user's name
(`LocalKeys`), so a restart of the service finds the same key, the browser's
cookie keeps working, and the accounts hold one such key per user: stored
by hash like every key, labelled, and any older key with the label removed.
With a second user, everyone signs in.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import time
from typing import Any

from fastapi import HTTPException, Request, Response
from nats.js.errors import KeyDeletedError, KeyNotFoundError, NoKeysError
from nats.js.kv import KeyValue

from ..common.accounts import KEY_PREFIX, AccountsView, Principal, hash_key, new_api_key
from .auth import COOKIE

logger = logging.getLogger(__name__)

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
    keys: LocalKeys = request.app.state.local_keys
    api_key = await keys.ensure(user)
    who = await _visible(request.app.state.accounts, api_key)
    _set_key(response, api_key)
    return viewer(who)


class LocalKeys:
    """The one dashboard key of each user of a local platform.

    The key is an HMAC of the user's name under the platform's secret, so it
    is the same in every process and after every restart; only its hash is
    stored, as for every key. Without a secret (a test's bare settings) the
    key is random and lasts as long as the process.
    """

    def __init__(self, kv: KeyValue, secret: str) -> None:
        self._kv = kv
        self._secret = secret
        self._made: dict[str, str] = {}
        self._stored: set[str] = set()

    def key_of(self, user: str) -> str:
        """The dashboard key of `user` (not yet stored)."""
        if not self._secret:
            return self._made.setdefault(user, new_api_key())
        digest = hmac.new(self._secret.encode(), b"dashboard sign-in\0" +
                          user.encode(), hashlib.sha256).digest()
        return KEY_PREFIX + base64.urlsafe_b64encode(digest).decode().rstrip("=")

    async def ensure(self, user: str) -> str:
        """The key of `user`, stored once, with older dashboard keys removed."""
        api_key = self.key_of(user)
        mine = hash_key(api_key)
        if mine not in self._stored:
            await self._store(user, mine)
            await self._drop_older(user, mine)
            self._stored.add(mine)
        return api_key

    async def _store(self, user: str, hashed: str) -> None:
        try:
            await self._kv.get(f"key.{hashed}")
            return
        except (KeyNotFoundError, KeyDeletedError):
            pass  # first sign-in with this key: store it below
        record = {"user": user, "label": LOCAL_LABEL, "created_at": time.time()}
        await self._kv.put(f"key.{hashed}", json.dumps(record).encode())

    async def _drop_older(self, user: str, mine: str) -> None:
        for name in await self._key_names():
            if name == f"key.{mine}":
                continue
            try:
                entry = await self._kv.get(name)
            except (KeyNotFoundError, KeyDeletedError):
                continue
            record = json.loads(entry.value or b"{}")
            if record.get("user") == user and record.get("label") == LOCAL_LABEL:
                logger.info("removing an older dashboard key of %s", user)
                await self._kv.delete(name)

    async def _key_names(self) -> list[str]:
        try:  # nats-py's `filters` are substrings, not subjects: filter here
            names = await self._kv.keys()
        except NoKeysError:
            return []
        return [name for name in names if name.startswith("key.")]


async def memberships(kv: KeyValue, view: AccountsView, who: Principal) -> list[dict]:
    """Each entity `who` belongs to: its kind (user or team) and `who`'s role."""
    found = []
    for entity in sorted(who.entities):
        try:
            entry = await kv.get(f"member.{entity}.{who.user}")
            role = json.loads(entry.value or b"{}").get("role", "member")
        except (KeyNotFoundError, KeyDeletedError):
            role = "member"
        kind = view.entities.get(entity, {}).get("kind", "team")
        found.append({"entity": entity, "kind": kind, "role": role})
    return found


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
