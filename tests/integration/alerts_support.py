"""What the alerts tests share: real receivers (an HTTP server standing in for
Slack's webhooks, an aiosmtpd SMTP server with STARTTLS and login), the
alerts service in a thread, and batches published as ingest would.
"""

from __future__ import annotations

import datetime
import json
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import uvicorn
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from ingest_support import Nats, wait_for
from lodestar._proto import events_pb2
from lodestar_server.alerts.app import create_app
from lodestar_server.alerts.settings import AlertsSettings
from lodestar_server.common import bus
from lodestar_server.common.config import PlatformConfig
from lodestar_server.launcher.servers import free_port

# ---- a Slack stand-in ------------------------------------------------------------


@dataclass
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    hold: threading.Event | None = None   # answer only once this is set


class WebhookReceiver:
    """Answers POSTs per path from a script (default 200) and records them."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.scripts: dict[str, deque[Answer]] = {}
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver._take(self, body)

            def log_message(self, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def url(self, name: str) -> str:
        return f"{self.base}/services/{name}"

    def script(self, name: str, *answers: Answer) -> None:
        self.scripts.setdefault(f"/services/{name}", deque()).extend(answers)

    def posts(self, name: str) -> list[dict[str, Any]]:
        return [r for r in self.received if r["path"] == f"/services/{name}"]

    def _take(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        script = self.scripts.get(handler.path)
        answer = script.popleft() if script else Answer()
        with self.arrived:
            self.received.append({"path": handler.path, "at": time.monotonic(),
                                  "json": json.loads(body), "status": answer.status})
            self.arrived.notify_all()
        if answer.hold is not None:
            answer.hold.wait(30)
        handler.send_response(answer.status)
        for name, value in answer.headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", "2")
        handler.end_headers()
        handler.wfile.write(b"ok")

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


# ---- a real SMTP server ------------------------------------------------------


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    # aiosmtpd calls handlers by these exact names
    async def handle_DATA(  # noqa: N802
        self, server: Any, session: Any, envelope: Any
    ) -> str:
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        self.messages.append({"from": envelope.mail_from, "to": envelope.rcpt_tos,
                              "message": parsed})
        return "250 OK"


class MailReceiver:
    """aiosmtpd on a free loopback port, STARTTLS required, one login allowed."""

    def __init__(self, workdir: Path, user: str, password: str) -> None:
        self.ca_file, context = _self_signed(workdir)
        self.inbox = _Inbox()
        self.port = free_port()
        self.logins: list[str] = []

        def check(server: Any, session: Any, envelope: Any, mechanism: str,
                  data: Any) -> AuthResult:
            good = isinstance(data, LoginPassword) and (
                data.login.decode(), data.password.decode()) == (user, password)
            if good:
                self.logins.append(user)
            return AuthResult(success=good, handled=False)

        self._controller = Controller(
            self.inbox, hostname="127.0.0.1", port=self.port,
            tls_context=context, require_starttls=True, authenticator=check,
            auth_require_tls=True, server_hostname="localhost",
        )
        self._controller.start()

    def mail(self) -> list[EmailMessage]:
        return [item["message"] for item in self.inbox.messages]

    def close(self) -> None:
        self._controller.stop()


def _self_signed(workdir: Path) -> tuple[str, Any]:
    import ssl

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(
                __import__("ipaddress").ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = workdir / "smtp-cert.pem", workdir / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    return str(cert_path), context


# ---- the service in a thread -------------------------------------------------


def fast_settings(config: PlatformConfig, ca_file: str = "", **changes: Any
                  ) -> AlertsSettings:
    """Fast retries and stall checks, and names of this module's own."""
    tag = secrets.token_hex(4)
    values: dict[str, Any] = dict(
        backoff_base_s=0.05, backoff_max_s=0.4, max_attempts=4, send_timeout_s=5.0,
        stall_check_s=0.1, durable=f"alerts-test-{tag}",
        config_bucket=f"alerts_test_{tag}", ledger_bucket=f"alert_dlv_test_{tag}",
        redis_prefix=f"lodestar:alerts-test-{tag}:", smtp_ca_file=ca_file,
        public_url=config.public_url,
    )
    values.update(changes)
    return AlertsSettings(**values)


class AlertsThread:
    """The alerts service (app, API, consumer) on its own loop in a thread."""

    def __init__(self, config: PlatformConfig, settings: AlertsSettings) -> None:
        self.config = config
        self.settings = settings
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.app: Any = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def service(self) -> Any:
        return self.app.state.service

    def start(self) -> None:
        self.app = create_app(self.config, self.settings)
        self._server = uvicorn.Server(uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_config=None,
            access_log=False, lifespan="on"))
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        wait_for(lambda: self._healthy(), 30, "the alerts service to be healthy")

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/healthz", timeout=2) as reply:
                return reply.status == 200
        except OSError:
            return False

    def begin_stop(self) -> None:
        assert self._server is not None
        self._server.should_exit = True

    def join(self) -> None:
        assert self._thread is not None
        self._thread.join(30)
        assert not self._thread.is_alive(), "the alerts service did not stop"

    def stop(self) -> None:
        self.begin_stop()
        self.join()

    def call(self, method: str, path: str, key: str, body: Any = None
             ) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path, data=data, method=method,
            headers={"Authorization": f"Bearer {key}",
                     "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as reply:
                return reply.status, json.loads(reply.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    def ok(self, method: str, path: str, key: str, body: Any = None) -> Any:
        status, answer = self.call(method, path, key, body)
        assert 200 <= status < 300, (status, answer)
        return answer


# ---- batches as ingest publishes them ----------------------------------------


class Runs:
    """Publishes one run's events on its ingest subject, numbered per WAL."""

    def __init__(self, nats: Nats, entity: str, project: str, run_id: str,
                 user: str = "") -> None:
        self.nats = nats
        self.entity, self.project, self.run_id = entity, project, run_id
        self.user = user or entity
        self.wal_id = secrets.token_hex(16)
        self.seq = 0

    def publish(self, *events: events_pb2.Event) -> list[events_pb2.Event]:
        batch = events_pb2.PublishedBatch(
            entity=self.entity, project=self.project, run_id=self.run_id,
            publisher_id=self.wal_id, user=self.user, published_at=time.time())
        for event in events:
            self.seq += 1
            event.seq = self.seq
            batch.events.append(event)
        subject = bus.event_subject("ingest", self.entity, self.project, self.run_id)
        msg_id = bus.message_id(self.wal_id, events[0].seq, events[-1].seq)
        self.nats.loop.run(self.nats.js.publish(
            subject, batch.SerializeToString(), headers={"Nats-Msg-Id": msg_id}))
        return list(events)


def start(at: float, name: str = "", group: str = "", tags: tuple = ()
          ) -> events_pb2.Event:
    event = events_pb2.Event(timestamp=at)
    event.run_start.name = name
    event.run_start.group = group
    event.run_start.tags.extend(tags)
    return event


def history(at: float, key: str, values: list[float], first_step: int = 0
            ) -> events_pb2.Event:
    event = events_pb2.Event(timestamp=at)
    batch = event.history
    steps = list(range(first_step, first_step + len(values)))
    batch.steps.extend(steps)
    batch.timestamps.extend(at + 0.001 * i for i in range(len(values)))
    batch.runtimes.extend(float(i) for i in range(len(values)))
    batch.columns.add(key=key, kind=events_pb2.FLOAT, f64=values)
    batch.keys.append(key)
    batch.max_step = steps[-1]
    batch.has_nonfinite = any(v != v or v in (float("inf"), float("-inf"))
                              for v in values)
    return event


def alert(at: float, title: str, level: int = 0, wait: float = 60.0,
          text: str = "details") -> events_pb2.Event:
    event = events_pb2.Event(timestamp=at)
    event.alert.title = title
    event.alert.text = text
    event.alert.level = level
    event.alert.wait_duration = wait
    return event


def finish(at: float, code: int = 0, state: int = 0) -> events_pb2.Event:
    event = events_pb2.Event(timestamp=at)
    event.finish.exit_code = code
    event.finish.state = state
    return event
