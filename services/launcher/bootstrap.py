"""The first user of a local platform, made before the services start.

The first start creates an admin user named after the OS user, their entity
and an API key, and stores the key in ``~/.netrc`` for the platform's URL so
that training scripts work without a login step. Later starts only make sure
that ``~/.netrc`` holds a key for the URL (a new one when the port moved).
"""

from __future__ import annotations

import asyncio
import getpass
import logging
import re
import time

from lodestar.settings import netrc_key, store_netrc_key

from ..common import bus
from ..common.accounts import Accounts, AlreadyExists
from ..common.config import PlatformConfig
from ..common.names import InvalidName, check_entity
from .datadir import DataDir

logger = logging.getLogger(__name__)

FALLBACK_USER = "admin"
NATS_TIMEOUT_S = 10.0


def first_user_name(login: str | None = None) -> str:
    """The OS user's name made into a valid entity name, else ``admin``."""
    try:
        raw = login if login is not None else getpass.getuser()
    except (KeyError, OSError):
        return FALLBACK_USER
    slug = re.sub(r"[^a-z0-9_-]+", "-", raw.lower()).strip("-_")[:64]
    try:
        return check_entity(slug)
    except InvalidName:
        return FALLBACK_USER


def ensure_first_user(data: DataDir, config: PlatformConfig) -> str:
    """Create the first user once; keep a key for the URL in ``~/.netrc``.

    Returns:
        The first user's name.
    """
    record = data.read_json(data.bootstrap_json)
    user = record["user"] if record else first_user_name()
    if record is None or netrc_key(config.public_url) is None:
        api_key = asyncio.run(_create(config, user, new_user=record is None))
        path = store_netrc_key(config.public_url, api_key)
        logger.info("stored the API key of %s for %s in %s",
                    user, config.public_url, path)
    if record is None:
        data.write_json(data.bootstrap_json, {"user": user, "created_at": time.time()})
    return user


async def _create(config: PlatformConfig, user: str, new_user: bool) -> str:
    client = await asyncio.wait_for(bus.connect(config, "launcher"), NATS_TIMEOUT_S)
    try:
        js = client.jetstream(timeout=NATS_TIMEOUT_S)
        accounts = Accounts(await bus.bucket(js, bus.BUCKET_ACCOUNTS))
        if new_user:
            try:
                await accounts.add_user(user, admin=True)
                logger.info("created the first user %s (admin)", user)
            except AlreadyExists:
                logger.info("the first user %s exists already", user)
        return await accounts.create_key(user, label="local platform")
    finally:
        await client.close()
