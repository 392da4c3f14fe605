"""Every child of the local platform, in start order, with its health probe.

The servers come first (NATS, Valkey, S3), then the services, each started
as ``python -m lodestar_server.<name> --config platform.json``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

from ..common.config import PlatformConfig
from .process import Child
from .servers import (
    ServerPorts,
    http_ok,
    nats_child,
    nats_probe,
    s3_child,
    s3_probe,
    valkey_child,
    valkey_probe,
)

SERVER_NAMES = ("nats", "valkey", "s3")
SERVICE_NAMES = ("ingest", "query", "artifacts", "alerts")
NAMES = SERVER_NAMES + SERVICE_NAMES


def service_health_url(config: PlatformConfig, name: str) -> str:
    """The URL whose 200 says that service `name` is healthy."""
    port = {
        "ingest": config.ingest_http_port,
        "query": config.query_port,
        "artifacts": config.artifacts_port,
        "alerts": config.alerts_port,
    }[name]
    host = config.query_host if name == "query" else "127.0.0.1"
    return f"http://{host}:{port}/healthz"


def ports_of(config: PlatformConfig, ports: ServerPorts) -> dict[str, int]:
    """The main port of each child, as `status` shows it."""
    return {
        "nats": ports.nats,
        "valkey": ports.valkey,
        "s3": ports.s3,
        "ingest": config.ingest_port,
        "query": config.query_port,
        "artifacts": config.artifacts_port,
        "alerts": config.alerts_port,
    }


def probes(config: PlatformConfig, ports: ServerPorts) -> dict[str, Callable[[], bool]]:
    """A health probe per child, usable from any process."""
    found: dict[str, Callable[[], bool]] = {
        "nats": nats_probe(ports),
        "valkey": valkey_probe(config),
        "s3": s3_probe(ports),
    }
    for name in SERVICE_NAMES:
        found[name] = _http_probe(service_health_url(config, name))
    return found


def _http_probe(url: str) -> Callable[[], bool]:
    return lambda: http_ok(url)


def build_children(
    config: PlatformConfig, ports: ServerPorts, config_path: Path, grace_s: float
) -> list[Child]:
    """The seven children, not yet started."""
    logs = Path(config.data_dir) / "logs"
    children = [
        nats_child(config, ports, logs),
        valkey_child(config, ports, logs),
        s3_child(config, ports, logs),
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for name in SERVICE_NAMES:
        argv = [sys.executable, "-m", f"lodestar_server.{name}"]
        argv += ["--config", str(config_path)]
        probe = _http_probe(service_health_url(config, name))
        children.append(Child(name, argv, logs / f"{name}.log", probe, env=env))
    for child in children:
        child.grace_s = grace_s
    return children
