"""``python -m lodestar_server.alerts --config PATH``: the alerts service."""

from __future__ import annotations

import argparse
import logging
import sys

import uvicorn

from ..common.config import ConfigError, load_config
from .app import create_app
from .errors import SecretError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lodestar_server.alerts")
    parser.add_argument("--config", required=True, help="the platform.json to use")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    log = logging.getLogger("lodestar_server.alerts")
    try:
        config = load_config(args.config)
        app = create_app(config)
    except (ConfigError, SecretError) as exc:
        log.error("%s", exc)
        return 2
    uvicorn.run(app, host="127.0.0.1", port=config.alerts_port, log_config=None,
                access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
