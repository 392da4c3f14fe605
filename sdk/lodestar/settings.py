"""SDK settings: ``LODESTAR_*`` variables, then the settings file, then defaults.

The settings file is ``~/.config/lodestar/settings.yaml`` (a mapping of the
lower-case names below). API keys are kept per host in ``~/.netrc``, as ML
engineers expect from other trackers, or given in ``LODESTAR_API_KEY``.
"""

from __future__ import annotations

import dataclasses
import netrc
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from .errors import UsageError

DEFAULT_BASE_URL = "http://127.0.0.1:8080"
MODES = ("online", "offline", "disabled")


@dataclass(frozen=True)
class Settings:
    base_url: str = DEFAULT_BASE_URL
    api_key: str | None = None
    mode: str = "online"
    project: str | None = None
    entity: str | None = None
    run_id: str | None = None
    resume: str | None = None
    dir: str | None = None
    ignore_globs: str | None = None
    init_timeout: float = 60.0
    finish_timeout: float = 120.0
    silent: bool = False
    heartbeat_interval: float = 30.0
    name: str | None = None
    notes: str | None = None
    tags: str | None = None
    run_group: str | None = None
    job_type: str | None = None
    console: str = "auto"
    system_metrics: bool = True
    system_metrics_interval: float = 10.0
    disable_code: bool = False
    disable_git: bool = False
    preempt_signals: str | None = None   # e.g. "SIGTERM": that signal means preemption
    max_local_gb: float = 0.0            # cap on local run dirs + cache; 0: none

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "lodestar"


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment, the settings file and `overrides`."""
    values: dict[str, Any] = {}
    values.update(_from_file(config_dir() / "settings.yaml"))
    values.update(_from_env())
    values.update({k: v for k, v in overrides.items() if v is not None})
    settings = Settings(**values)
    if settings.mode not in MODES:
        raise UsageError(f"mode {settings.mode!r} is not one of {MODES}")
    if settings.api_key is None:
        settings = settings.replace(api_key=netrc_key(settings.base_url))
    return settings


def _from_env() -> dict[str, Any]:
    values: dict[str, Any] = {}
    for field in dataclasses.fields(Settings):
        raw = os.environ.get("LODESTAR_" + field.name.upper())
        if raw is not None and raw != "":
            values[field.name] = _coerce(field, raw)
    return values


def _from_file(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    import yaml  # only when the file exists: keeps `import lodestar` light

    raw = yaml.safe_load(path.read_text()) or {}
    if not isinstance(raw, dict):
        raise UsageError(f"{path} must hold a mapping of setting names to values")
    fields = {f.name: f for f in dataclasses.fields(Settings)}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise UsageError(f"{path}: unknown settings {unknown}; known: {sorted(fields)}")
    return {
        k: _coerce(fields[k], v) if isinstance(v, str) else v for k, v in raw.items()
    }


def _coerce(field: dataclasses.Field, raw: str) -> Any:
    kind = str(field.type)
    if kind == "bool":
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if kind == "float":
        try:
            return float(raw)
        except ValueError as exc:
            raise UsageError(
                f"LODESTAR_{field.name.upper()}={raw!r} is not a number of seconds"
            ) from exc
    return raw


def _netrc_path() -> Path:
    return Path(os.environ.get("NETRC") or Path.home() / ".netrc")


def netrc_key(base_url: str) -> str | None:
    """The API key stored for the host of `base_url`, if any."""
    path = _netrc_path()
    if not path.exists():
        return None
    try:
        entry = netrc.netrc(str(path)).authenticators(_host(base_url))
    except (netrc.NetrcParseError, OSError):
        return None
    return entry[2] if entry else None


def store_netrc_key(base_url: str, api_key: str) -> Path:
    """Save `api_key` for the host of `base_url`, replacing an older one."""
    path = _netrc_path()
    host = _host(base_url)
    lines = path.read_text().splitlines() if path.exists() else []
    kept = [line for line in lines if not line.startswith(f"machine {host} ")]
    kept.append(f"machine {host} login user password {api_key}")
    tmp = path.with_name(path.name + ".lodestar-tmp")
    tmp.write_text("\n".join(kept) + "\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def _host(base_url: str) -> str:
    parsed = urlparse(base_url)
    if not parsed.hostname:
        raise UsageError(f"base URL {base_url!r} has no host; use http://HOST:PORT")
    return f"{parsed.hostname}:{parsed.port}" if parsed.port else parsed.hostname
