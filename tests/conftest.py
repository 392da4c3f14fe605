"""Fixtures shared by the whole suite: real servers on free loopback ports.

`servers` starts NATS (JetStream), Valkey and SeaweedFS S3 once per session
and yields the `PlatformConfig` that points at them, with free ports picked
for the services (which it does not start). `local_platform` starts the whole
platform through the launcher, as `lodestar server start` does.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from lodestar_server.common.config import PlatformConfig
from lodestar_server.launcher.servers import LocalServers, ServerPorts, new_config


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlatformConfig]:
    data_dir: Path = tmp_path_factory.mktemp("servers")
    ports = ServerPorts.pick()
    config = new_config(data_dir, ports)
    local = LocalServers(config, ports, grace_s=5.0)
    local.start(timeout_s=60.0)
    try:
        yield config
    finally:
        local.stop()
