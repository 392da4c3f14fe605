"""The alerts service against real NATS and Valkey, a Slack stand-in and a real
SMTP server, fed with batches published exactly as ingest publishes them."""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass

import pytest
from alerts_support import (
    AlertsThread,
    Answer,
    MailReceiver,
    Runs,
    WebhookReceiver,
    alert,
    fast_settings,
    finish,
    history,
    start,
)
from ingest_support import LoopThread, Nats, wait_for
from lodestar._proto import events_pb2
from lodestar_server.alerts.evaluate import alert_id
from lodestar_server.common import bus

pytestmark = pytest.mark.timeout(120)

MAIL_USER, MAIL_PASSWORD = "mailer", "s3cret-" + secrets.token_hex(4)


@dataclass
class Env:
    nats: Nats
    hooks: WebhookReceiver
    mail: MailReceiver
    alerts: AlertsThread


@pytest.fixture(scope="module")
def env(servers, tmp_path_factory):
    loop = LoopThread()
    nats = Nats(servers, loop)
    hooks = WebhookReceiver()
    mail = MailReceiver(tmp_path_factory.mktemp("smtp"), MAIL_USER, MAIL_PASSWORD)
    alerts = AlertsThread(servers, fast_settings(servers, mail.ca_file))
    alerts.start()
    try:
        yield Env(nats, hooks, mail, alerts)
    finally:
        alerts.stop()
        loop.run(nats.js.delete_consumer(bus.EVENTS_STREAM, alerts.settings.durable))
        hooks.close()
        mail.close()
        nats.close()
        loop.close()


@dataclass
class User:
    name: str
    key: str
    project: str


@pytest.fixture
def user(env) -> User:
    name, key = env.nats.new_user("al")
    wait_for(lambda: env.alerts.call("GET", "/api/v1/alerts/channels", key)[0] == 200,
             10, "the new key to reach the alerts service")
    return User(name, key, "p" + secrets.token_hex(3))


def slack(env: Env, user: User, hook: str, **subscribe) -> str:
    body = {"type": "slack", "url": env.hooks.url(hook),
            "subscribe": {"project": user.project, **subscribe}}
    return env.alerts.ok("POST", "/api/v1/alerts/channels", user.key, body)["id"]


def run(env: Env, user: User, run_id: str = "r1") -> Runs:
    return Runs(env.nats, user.name, user.project, run_id)


def record(env: Env, user: User, ident: str) -> dict:
    def found():
        status, body = env.alerts.call("GET", f"/api/v1/alerts/alerts/{ident}",
                                       user.key)
        return body if status == 200 else None

    return wait_for(found, 20, f"alert {ident} to be recorded")


def settled(env: Env, user: User, ident: str) -> dict:
    """The alert once every delivery has ended (sent or failed)."""
    def done():
        body = record(env, user, ident)
        ended = all(d["status"] in ("sent", "failed") for d in body["deliveries"])
        return body if ended and body["deliveries"] else None

    return wait_for(done, 30, f"deliveries of {ident} to end")


# ---- levels and channels --------------------------------------------------------


def test_each_level_reaches_slack_with_its_colour(env, user):
    hook = "levels-" + user.name
    slack(env, user, hook)
    now = time.time()
    r = run(env, user)
    r.publish(start(now, name="bright-star"))
    for level, title in enumerate(("all good", "watch out", "broken")):
        r.publish(alert(now, title, level=level, text=f"text {level}"))

    posts = wait_for(lambda: len(env.hooks.posts(hook)) == 3 and env.hooks.posts(hook),
                     20, "three Slack messages")
    by_title = {p["json"]["attachments"][0]["title"]: p["json"] for p in posts}
    colours = {t: m["attachments"][0]["color"] for t, m in by_title.items()}
    assert colours == {"all good": "#2eb67d", "watch out": "#ecb22e",
                       "broken": "#e01e5a"}
    message = by_title["broken"]
    assert message["text"] == "[ERROR] broken"
    attachment = message["attachments"][0]
    assert attachment["text"] == "text 2"
    fields = {f["title"]: f["value"] for f in attachment["fields"]}
    assert fields == {"Run": "bright-star", "Project": f"{user.name}/{user.project}",
                      "Level": "ERROR"}
    assert attachment["title_link"].endswith(f"/#/{user.name}/{user.project}/r1")


def test_email_goes_over_starttls_with_login_and_both_bodies(env, user):
    body = {"type": "email", "to": "ops@example.test", "smtp_host": "127.0.0.1",
            "smtp_port": env.mail.port, "smtp_user": MAIL_USER,
            "smtp_password": MAIL_PASSWORD, "security": "starttls",
            "subscribe": {"project": user.project, "min_level": "warn"}}
    shown = env.alerts.ok("POST", "/api/v1/alerts/channels", user.key, body)
    assert MAIL_PASSWORD not in json.dumps(shown)
    now = time.time()
    r = run(env, user)
    info, warn = r.publish(alert(now, "only info"),
                           alert(now, "disk almost full", level=1))

    def mine():
        return [m for m in env.mail.mail() if user.project in m.get_body(
            ("plain",)).get_content()]

    settled(env, user, alert_id(r.wal_id, warn.seq, "user"))
    below = record(env, user, alert_id(r.wal_id, info.seq, "user"))
    assert (below["paged"], below["reason"]) == (
        False, "no subscription matches this alert")
    mails = mine()
    assert len(mails) == 1
    mail = mails[0]
    assert mail["Subject"] == "[Lodestar WARN] disk almost full"
    assert MAIL_USER in env.mail.logins
    plain = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "WARN: disk almost full" in plain and "details" in plain
    assert "<strong>WARN: disk almost full</strong>" in html
    assert f"{user.name}/{user.project}" in plain and f"/#/{user.name}/" in html
