"""``python -m lodestar_server.artifacts --config PATH``: the artifacts service."""

from __future__ import annotations

import argparse
import logging
import sys

import uvicorn

from ..common.config import ConfigError, load_config
from .app import create_app

logger = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lodestar_server.artifacts")
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
        logger.error("%s", exc)
        return 2
    uvicorn.run(create_app(config), host="127.0.0.1", port=config.artifacts_port,
                log_config=None, access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
