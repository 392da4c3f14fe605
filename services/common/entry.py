"""What every service's ``python -m lodestar_server.<name>`` does first."""

from __future__ import annotations

import argparse
import logging

from .config import ConfigError, PlatformConfig, load_config

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def service_config(name: str, argv: list[str] | None) -> PlatformConfig | None:
    """Parse the arguments, set up logging and read the platform settings.

    Returns None, after logging why, when the settings cannot be used.
    """
    parser = argparse.ArgumentParser(prog=f"python -m lodestar_server.{name}")
    parser.add_argument("--config", required=True, help="the platform.json to use")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format=LOG_FORMAT)
    try:
        return load_config(args.config)
    except ConfigError as exc:
        logging.getLogger(f"lodestar_server.{name}").error("%s", exc)
        return None
