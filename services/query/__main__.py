"""``python -m lodestar_server.query --config PATH``: the query service."""

from __future__ import annotations

import sys

import uvicorn

from ..common.entry import service_config
from ..writer.storage import make_storage
from .app import create_app


def main(argv: list[str] | None = None) -> int:
    config = service_config("query", argv)
    if config is None:
        return 2
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
