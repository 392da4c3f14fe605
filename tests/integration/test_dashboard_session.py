"""The local profile's automatic sign-in keeps one dashboard key per user."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import nats
import pytest
from lodestar_server.common import bus
from lodestar_server.common.accounts import Accounts, AccountsView, hash_key
from lodestar_server.common.config import PlatformConfig
from lodestar_server.query.dashboard_session import LOCAL_LABEL, LocalKeys

pytestmark = pytest.mark.timeout(60)


async def _in_fresh_bucket(config: PlatformConfig, action: Any) -> Any:
    client = await nats.connect(config.nats_url, user=config.nats_user,
                                password=config.nats_password, connect_timeout=5)
    js = client.jetstream(timeout=10)
    name = "test-accounts-" + uuid.uuid4().hex[:8]
    try:
        kv = await bus.bucket(js, name, history=5)
        await Accounts(kv).add_user("ana")
        return await action(kv)
    finally:
        await js.delete_key_value(name)
        await client.close()


async def _dashboard_keys(kv: Any) -> list[str]:
    found = []
    for name in [n for n in await kv.keys() if n.startswith("key.")]:
        record = json.loads((await kv.get(name)).value)
        if record["label"] == LOCAL_LABEL:
            found.append(name)
    return found


def test_a_restarted_service_signs_in_with_the_same_key(servers: PlatformConfig):
    async def check(kv: Any) -> None:
        first = await LocalKeys(kv, "platform-secret").ensure("ana")
        again = await LocalKeys(kv, "platform-secret").ensure("ana")  # a restart
        assert again == first
        assert first.startswith("lsk_")
        assert await _dashboard_keys(kv) == [f"key.{hash_key(first)}"]

    asyncio.run(_in_fresh_bucket(servers, check))


def test_older_dashboard_keys_are_removed_and_other_keys_kept(
    servers: PlatformConfig,
):
    async def check(kv: Any) -> None:
        accounts = Accounts(kv)
        older = [await accounts.create_key("ana", LOCAL_LABEL) for _ in range(3)]
        laptop = await accounts.create_key("ana", "laptop")
        mine = await LocalKeys(kv, "platform-secret").ensure("ana")
        assert mine not in older
        assert await _dashboard_keys(kv) == [f"key.{hash_key(mine)}"]
        record = json.loads((await kv.get(f"key.{hash_key(laptop)}")).value)
        assert record["label"] == "laptop"

    asyncio.run(_in_fresh_bucket(servers, check))


def test_the_dashboard_key_authenticates_as_its_user(servers: PlatformConfig):
    async def check(kv: Any) -> None:
        api_key = await LocalKeys(kv, "platform-secret").ensure("ana")
        view = AccountsView()
        follower = asyncio.create_task(view.follow(kv))
        try:
            await asyncio.wait_for(view.ready.wait(), 10)
            who = view.authenticate(api_key)
            assert who is not None and who.user == "ana"
        finally:
            follower.cancel()
            await asyncio.gather(follower, return_exceptions=True)

    asyncio.run(_in_fresh_bucket(servers, check))


def test_another_secret_or_user_gives_another_key(servers: PlatformConfig):
    async def check(kv: Any) -> None:
        await Accounts(kv).add_user("bo")
        ana = await LocalKeys(kv, "platform-secret").ensure("ana")
        bo = await LocalKeys(kv, "platform-secret").ensure("bo")
        elsewhere = LocalKeys(kv, "other-secret").key_of("ana")
        assert len({ana, bo, elsewhere}) == 3

    asyncio.run(_in_fresh_bucket(servers, check))


def test_without_a_secret_the_key_lasts_for_the_process(servers: PlatformConfig):
    async def check(kv: Any) -> None:
        keys = LocalKeys(kv, "")
        assert await keys.ensure("ana") == await keys.ensure("ana")
        assert await LocalKeys(kv, "").ensure("ana") != await keys.ensure("ana")
        assert len(await _dashboard_keys(kv)) == 1

    asyncio.run(_in_fresh_bucket(servers, check))
