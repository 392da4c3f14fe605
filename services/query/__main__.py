"""``python -m lodestar_server.query --config PATH``: the query service."""

from __future__ import annotations

import argparse
import logging

import uvicorn

from ..common.config import load_config
from ..writer.storage import make_storage
from .app import create_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m lodestar_server.query")
    parser.add_argument("--config", required=True, help="path of platform.json")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    config = load_config(args.config)
    storage_url = config.storage_url or f"chdb://{config.data_dir}/chdb"
    storage = make_storage(storage_url)
    try:
        uvicorn.run(
            create_app(config, storage),
            host=config.query_host,
            port=config.query_port,
            log_level="info",
            access_log=False,
        )
    finally:
        storage.close()


if __name__ == "__main__":
    main()
