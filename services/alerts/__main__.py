"""``python -m lodestar_server.alerts --config PATH``: the alerts service."""

from __future__ import annotations

import logging
import sys

import uvicorn

from ..common.entry import service_config
from .app import create_app
from .errors import SecretError


def main(argv: list[str] | None = None) -> int:
    config = service_config("alerts", argv)
    if config is None:
        return 2
    try:
        app = create_app(config)
    except SecretError as exc:
        logging.getLogger("lodestar_server.alerts").error("%s", exc)
        return 2
    uvicorn.run(app, host="127.0.0.1", port=config.alerts_port, log_config=None,
                access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
