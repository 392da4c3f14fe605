"""The alerts service against real NATS and Valkey, a Slack stand-in and a real
SMTP server, fed with batches published exactly as ingest publishes them."""

from __future__ import annotations

import json
import secrets
import threading
import time
import urllib.parse
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


def test_wait_duration_suppresses_the_same_title_then_releases_it(env, user):
    hook = "wait-" + user.name
    slack(env, user, hook)
    t = time.time() - 30
    r = run(env, user)
    first, again, other, later = r.publish(
        alert(t, "loss spike", wait=10), alert(t + 4, "loss spike", wait=10),
        alert(t + 5, "another title", wait=10), alert(t + 11, "loss spike", wait=10))
    ids = [alert_id(r.wal_id, e.seq, "user") for e in (first, again, other, later)]

    records = [record(env, user, ident) for ident in ids]
    assert [rec["paged"] for rec in records] == [True, False, True, True]
    assert records[1]["reason"] == (
        "an alert with this title paged less than 10 s before (wait_duration)")
    posts = wait_for(lambda: len(env.hooks.posts(hook)) == 3 and env.hooks.posts(hook),
                     20, "three messages")
    titles = sorted(p["json"]["attachments"][0]["title"] for p in posts)
    assert titles == ["another title", "loss spike", "loss spike"]


def test_nan_alerts_once_per_metric_and_run(env, user):
    hook = "nan-" + user.name
    slack(env, user, hook, kinds=["nan"])
    now = time.time()
    r = run(env, user)
    r.publish(start(now, name="nanny"), history(now, "loss", [0.5, float("nan")]))
    r.publish(history(now, "loss", [float("inf"), 0.1], first_step=2),
              history(now, "acc", [float("-inf")], first_step=4))

    posts = wait_for(lambda: len(env.hooks.posts(hook)) == 2 and env.hooks.posts(hook),
                     20, "one NaN alert per metric")
    texts = sorted(p["json"]["attachments"][0]["text"] for p in posts)
    assert texts == [
        f"acc became -inf at step 4 of run nanny in {user.name}/{user.project}.",
        f"loss became nan at step 1 of run nanny in {user.name}/{user.project}.",
    ]


def test_threshold_rule_needs_consecutive_steps_and_its_group(env, user):
    hook = "thr-" + user.name
    slack(env, user, hook, kinds=["threshold"])
    rule = env.alerts.ok("POST", "/api/v1/alerts/rules", user.key, {
        "project": user.project, "metric": "val/loss", "op": "above",
        "value": 2.0, "steps": 3, "group": "sweep", "level": "error"})
    assert rule["description"] == "val/loss above 2 for 3 steps"
    now = time.time()
    inside, outside = run(env, user, "in"), run(env, user, "out")
    inside.publish(start(now, group="sweep"))
    outside.publish(start(now, group="other"))
    values = [3.0, 3.0, 1.0, 3.0, 2.5]
    inside.publish(history(now, "val/loss", values))
    outside.publish(history(now, "val/loss", values + [9.0, 9.0]))
    inside.publish(history(now, "val/loss", [4.0, 5.0, 1.0], first_step=5))

    ident = alert_id(rule["id"], bus.run_key(user.name, user.project, "in"), 5)
    fired = record(env, user, ident)
    assert (fired["kind"], fired["level"], fired["paged"]) == ("threshold", 2, True)
    assert fired["text"].endswith("at step 5 it was 4.")
    posts = wait_for(lambda: env.hooks.posts(hook), 20, "the threshold alert")
    assert len(posts) == 1
    assert posts[0]["json"]["attachments"][0]["title"] == "val/loss above 2 in run in"


def test_stall_rule_fires_for_a_silent_run_and_not_for_a_finished_one(env, user):
    hook = "stall-" + user.name
    slack(env, user, hook, kinds=["stalled"])
    env.alerts.ok("POST", "/api/v1/alerts/rules", user.key, {
        "project": user.project, "kind": "stall", "stall_s": 0.5})
    now = time.time()
    silent, done = run(env, user, "silent"), run(env, user, "done")
    silent.publish(start(now), history(now, "loss", [1.0]))
    done.publish(start(now), history(now, "loss", [1.0]), finish(now))

    posts = wait_for(lambda: env.hooks.posts(hook), 20, "a stall alert")
    assert posts[0]["json"]["attachments"][0]["title"] == "Run silent stalled"
    silent.publish(finish(time.time()))
    assert [p["json"]["attachments"][0]["title"] for p in env.hooks.posts(hook)] == [
        "Run silent stalled"]


# ---- delivery -------------------------------------------------------------------


def test_retries_honour_retry_after_then_back_off_after_500(env, user):
    hook = "retry-" + user.name
    env.hooks.script(hook, Answer(429, {"Retry-After": "1"}), Answer(500), Answer(200))
    slack(env, user, hook)
    r = run(env, user)
    (event,) = r.publish(alert(time.time(), "flaky"))

    done = settled(env, user, alert_id(r.wal_id, event.seq, "user"))
    (delivery,) = done["deliveries"]
    assert [(a["attempt"], a["status"]) for a in delivery["attempts"]] == [
        (1, "retrying"), (2, "retrying"), (3, "sent")]
    assert delivery["attempts"][0]["error"].endswith("answered HTTP 429 (ok)")
    assert delivery["attempts"][1]["error"].endswith("answered HTTP 500 (ok)")
    posts = env.hooks.posts(hook)
    assert [p["status"] for p in posts] == [429, 500, 200]
    assert posts[1]["at"] - posts[0]["at"] >= 1.0


def test_a_misconfigured_channel_fails_without_holding_back_another(env, user):
    broken, good = "gone-" + user.name, "good-" + user.name
    env.hooks.script(broken, *[Answer(404)] * 3)
    bad_id = slack(env, user, broken)
    slack(env, user, good)
    mail = env.alerts.ok("POST", "/api/v1/alerts/channels", user.key, {
        "type": "email", "to": "x@example.test", "smtp_host": "127.0.0.1",
        "smtp_port": env.mail.port, "smtp_user": MAIL_USER,
        "smtp_password": "wrong", "subscribe": {"project": user.project}})
    r = run(env, user)
    (event,) = r.publish(alert(time.time(), "to everyone"))

    done = settled(env, user, alert_id(r.wal_id, event.seq, "user"))
    outcome = {d["channel_id"]: (d["status"], d["attempt"], d["error"])
               for d in done["deliveries"]}
    assert outcome[bad_id][:2] == ("failed", 1)
    assert "answered HTTP 404" in outcome[bad_id][2]
    assert outcome[mail["id"]][:2] == ("failed", 1)
    assert outcome[mail["id"]][2].startswith(f"127.0.0.1:{env.mail.port} answered 535")
    assert [p["status"] for p in env.hooks.posts(good)] == [200]
    tested = env.alerts.ok("POST", f"/api/v1/alerts/channels/{bad_id}/test", user.key)
    assert tested["status"] == "failed" and "HTTP 404" in tested["error"]


def test_a_restart_during_delivery_repeats_only_the_attempt_in_flight(env, user):
    hook = "restart-" + user.name
    release = threading.Event()
    env.hooks.script(hook, Answer(200, hold=release))
    slack(env, user, hook)
    r = run(env, user)
    (first,) = r.publish(alert(time.time(), "first"))
    wait_for(lambda: env.hooks.posts(hook), 20, "the first attempt to arrive")

    env.alerts.begin_stop()
    wait_for(lambda: env.alerts.service._stop.is_set(), 20, "the service to stop")
    release.set()
    env.alerts.join()
    (second,) = r.publish(alert(time.time(), "second"))
    env.alerts.start()

    for event in (first, second):
        done = settled(env, user, alert_id(r.wal_id, event.seq, "user"))
        assert done["deliveries"][0]["status"] == "sent"
    titles = [p["json"]["attachments"][0]["title"] for p in env.hooks.posts(hook)]
    assert sorted(titles) == ["first", "first", "second"]
    attempts = settled(env, user, alert_id(r.wal_id, first.seq, "user"))[
        "deliveries"][0]["attempts"]
    assert [a["status"] for a in attempts] == ["retrying", "sent"]
    assert attempts[0]["error"].startswith("the alerts service restarted")


# ---- what does not page ---------------------------------------------------------


def test_an_old_run_synced_late_is_logged_but_pages_nobody(env, user):
    hook = "late-" + user.name
    slack(env, user, hook)
    then = time.time() - 7200
    r = run(env, user)
    _, nan, note, end = r.publish(
        start(then), history(then, "loss", [float("nan")]), alert(then, "old news"),
        finish(then, code=1))
    fresh = r.publish(alert(time.time(), "fresh"))[0]

    settled(env, user, alert_id(r.wal_id, fresh.seq, "user"))
    ids = [alert_id(bus.run_key(user.name, user.project, "r1"), "nan", "loss", 0),
           alert_id(r.wal_id, note.seq, "user"),
           alert_id(r.wal_id, end.seq, "failed")]
    for ident in ids:
        old = record(env, user, ident)
        assert old["paged"] is False
        assert old["reason"].startswith("the event was logged 72")
        assert old["reason"].endswith("only events younger than 600 s page")
    assert [p["json"]["attachments"][0]["title"]
            for p in env.hooks.posts(hook)] == ["fresh"]


def test_switches_turn_kinds_off_per_project_and_per_user(env, user):
    hook = "switch-" + user.name
    slack(env, user, hook)
    env.alerts.ok("POST", "/api/v1/alerts/switches", user.key,
                  {"kind": "finished", "enabled": False, "project": user.project})
    env.alerts.ok("POST", "/api/v1/alerts/switches", user.key,
                  {"kind": "failed", "enabled": False})
    now = time.time()
    ok, bad, killed = (run(env, user, name) for name in ("ok", "bad", "killed"))
    ok.publish(finish(now))
    (failed,) = bad.publish(finish(now, code=1))
    (end,) = killed.publish(finish(now, code=143, state=events_pb2.KILLED))

    settled(env, user, alert_id(killed.wal_id, end.seq, "killed"))
    muted = record(env, user, alert_id(bad.wal_id, failed.seq, "failed"))
    assert (muted["paged"], muted["reason"]) == (
        False, "no subscription matches this alert")
    assert [p["json"]["attachments"][0]["title"]
            for p in env.hooks.posts(hook)] == ["Run killed was killed"]
    env.alerts.ok("POST", "/api/v1/alerts/switches", user.key,
                  {"kind": "failed", "enabled": True})


def test_secrets_are_sealed_masked_and_kept_out_of_logs(env, user, caplog):
    url = env.hooks.url("secret-" + secrets.token_hex(8))
    body = {"type": "slack", "url": url, "subscribe": {"project": user.project}}
    shown = env.alerts.ok("POST", "/api/v1/alerts/channels", user.key, body)
    port = urllib.parse.urlsplit(url).port
    assert shown["secret"] == f"http://127.0.0.1:{port}/…{url[-4:]}"
    listed = env.alerts.ok("GET", "/api/v1/alerts/channels", user.key)
    assert url not in json.dumps(listed)
    stored = env.alerts.service.store.channels[shown["id"]]
    assert stored.secret.startswith("v1.") and url not in stored.secret
    r = run(env, user)
    (event,) = r.publish(alert(time.time(), "secretive"))
    settled(env, user, alert_id(r.wal_id, event.seq, "user"))
    assert url not in caplog.text


def test_a_batch_without_watched_keys_is_dismissed_by_its_header(env, user):
    stats = env.alerts.service.evaluator.stats
    skipped, read = stats.history_skipped, stats.history_read
    r = run(env, user)
    r.publish(*[history(time.time(), f"k{i}", [float(i)]) for i in range(5)])
    wait_for(lambda: stats.history_skipped >= skipped + 5, 20, "five dismissals")
    assert stats.history_read == read


def test_a_crash_decided_by_ingest_alerts_and_unreachable_does_not(env, user):
    hook = "lifecycle-" + user.name
    slack(env, user, hook)
    ingest = Runs(env.nats, user.name, user.project, "gone")
    ingest.wal_id = secrets.token_hex(16)  # ingest's own publisher id
    now = time.time()
    for state, reason in ((events_pb2.UNREACHABLE, "no heartbeat for 90 s"),
                          (events_pb2.CRASHED, "no heartbeat for 300 s")):
        event = events_pb2.Event(timestamp=now)
        event.lifecycle.state = state
        event.lifecycle.reason = reason
        ingest.publish(event)

    posts = wait_for(lambda: env.hooks.posts(hook), 20, "the crash alert")
    (message,) = posts
    assert message["json"]["attachments"][0]["text"] == (
        f"Run gone in {user.name}/{user.project} crashed (no heartbeat for 300 s).")
