"""The platform's settings, shared by every service.

The local launcher writes them as one JSON file under the data directory and
starts each service with ``--config PATH``; a cluster deployment mounts the
same file. Environment variables ``LODESTAR_SERVER_<FIELD>`` override a field.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class ConfigError(ValueError):
    """A settings file or variable that cannot be used."""


@dataclass(frozen=True)
class PlatformConfig:
    data_dir: str
    public_url: str                 # what users open: the query service
    nats_url: str
    nats_user: str
    nats_password: str
    redis_url: str                  # redis://:password@host:port/0
    s3_endpoint: str                # host:port
    s3_access_key: str
    s3_secret_key: str
    s3_bucket: str = "lodestar"
    s3_secure: bool = False
    storage_url: str = ""           # chdb:///path or http(s)://user:pw@host:port/db
    ingest_host: str = "127.0.0.1"
    ingest_port: int = 0            # gRPC
    ingest_http_port: int = 0       # health and Prometheus metrics
    query_host: str = "127.0.0.1"
    query_port: int = 8080
    artifacts_port: int = 0         # HTTP: health, metrics, and its API
    alerts_port: int = 0            # HTTP: health, metrics, and its API
    writer_embedded: bool = True    # local profile: the writer runs in query
    events_max_age_days: int = 0    # 0 keeps every event
    max_payload: int = 8 * 1024 * 1024
    server_secret: str = ""         # encrypts stored secrets (alerts)
    heartbeat_interval_s: float = 30.0
    crash_grace_s: float = 300.0
    alerts_live_age_s: float = 600.0  # older events are logged, never paged

    @property
    def ingest_target(self) -> str:
        return f"{self.ingest_host}:{self.ingest_port}"

    @property
    def artifacts_url(self) -> str:
        return f"http://{self.query_host}:{self.artifacts_port}"

    @property
    def alerts_url(self) -> str:
        return f"http://{self.query_host}:{self.alerts_port}"

    def dump(self, path: Path) -> None:
        """Write the settings where only the owner can read them."""
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(dataclasses.asdict(self), indent=2))
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)


def load_config(path: str | Path) -> PlatformConfig:
    """Read a settings file, then apply ``LODESTAR_SERVER_*`` overrides."""
    try:
        raw: dict[str, Any] = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read platform settings {path}: {exc}") from exc
    return _with_overrides(raw)


def _with_overrides(raw: dict[str, Any]) -> PlatformConfig:
    fields = {f.name: f for f in dataclasses.fields(PlatformConfig)}
    unknown = set(raw) - set(fields)
    if unknown:
        raise ConfigError(
            f"unknown settings {sorted(unknown)}; known: {sorted(fields)}"
        )
    for name, field in fields.items():
        env = os.environ.get(f"LODESTAR_SERVER_{name.upper()}")
        if env is not None:
            raw[name] = _parse(name, field.type, env)
    try:
        return PlatformConfig(**raw)
    except TypeError as exc:
        raise ConfigError(f"incomplete platform settings: {exc}") from exc


def _parse(name: str, kind: Any, text: str) -> Any:
    kind = str(kind)
    try:
        if kind == "bool":
            return text.lower() in ("1", "true", "yes", "on")
        if kind == "int":
            return int(text)
        if kind == "float":
            return float(text)
    except ValueError as exc:
        raise ConfigError(f"LODESTAR_SERVER_{name.upper()}={text!r}: {exc}") from exc
    return text
