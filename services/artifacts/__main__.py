"""``python -m lodestar_server.artifacts --config PATH``: the artifacts service."""

from __future__ import annotations

import sys

import uvicorn

from ..common.entry import service_config
from .app import create_app


def main(argv: list[str] | None = None) -> int:
    config = service_config("artifacts", argv)
    if config is None:
        return 2
    uvicorn.run(create_app(config), host="127.0.0.1", port=config.artifacts_port,
                log_config=None, access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
