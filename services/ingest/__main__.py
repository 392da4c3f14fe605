"""``python -m lodestar_server.ingest --config PATH``: run the ingest service."""

from __future__ import annotations

import asyncio
import sys

from ..common.entry import service_config
from .server import serve


def main(argv: list[str] | None = None) -> int:
    config = service_config("ingest", argv)
    if config is None:
        return 2
    asyncio.run(serve(config))
    return 0


if __name__ == "__main__":
    sys.exit(main())
