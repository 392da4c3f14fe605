"""The standalone writer (cluster profile): ``python -m lodestar_server.writer``.

In the local profile the query process hosts the writer instead, because
chDB lets only one process open its data directory.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from ..common.config import PlatformConfig
from ..common.entry import service_config
from .consumer import Writer
from .migrations import migrate
from .storage import make_storage

logger = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    config = service_config("writer", argv)
    if config is None:
        return 2
    asyncio.run(_serve(config))
    return 0


async def _serve(config: PlatformConfig) -> None:
    storage = make_storage(config.storage_url)
    migrate(storage)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await Writer(config, storage).run(stop)
    finally:
        storage.close()


if __name__ == "__main__":
    sys.exit(main())
