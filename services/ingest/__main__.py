"""``python -m lodestar_server.ingest --config PATH``: run the ingest service."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from ..common.config import ConfigError, load_config
from .server import serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lodestar_server.ingest")
    parser.add_argument("--config", required=True, help="the platform.json to use")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        logging.getLogger("lodestar_server.ingest").error("%s", exc)
        return 2
    asyncio.run(serve(config))
    return 0


if __name__ == "__main__":
    sys.exit(main())
