"""The standalone writer (cluster profile): ``python -m lodestar_server.writer``.

In the local profile the query process hosts the writer instead, because
chDB lets only one process open its data directory.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

from ..common.config import PlatformConfig, load_config
from .consumer import Writer
from .migrations import migrate
from .storage import make_storage

logger = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m lodestar_server.writer")
    parser.add_argument("--config", required=True, help="path of platform.json")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    config = load_config(args.config)
    asyncio.run(_serve(config))


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
    main()
