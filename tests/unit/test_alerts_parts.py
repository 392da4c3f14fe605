"""The alerts service's pure parts: parsing, sealing, messages, streaks, rows."""

from __future__ import annotations

import datetime
import email.message
import math

import lodestar
import pytest
from lodestar import LodestarWarning
from lodestar._proto import events_pb2
from lodestar_server.alerts import slack
from lodestar_server.alerts.crypto import SecretBox, mask
from lodestar_server.alerts.errors import InvalidRequest, SecretError
from lodestar_server.alerts.ledger import AlertRecord
from lodestar_server.alerts.messages import email_message, slack_payload
from lodestar_server.alerts.model import (
    Rule,
    Subscription,
    parse_email,
    parse_kinds,
    parse_rule,
)
from lodestar_server.alerts.ruling import Point, _advance
from lodestar_server.writer.rows import RowSet
from sdk_support import events, offline, workdir  # noqa: F401

SECRET = "k" * 64


def _alert(**changes) -> AlertRecord:
    values = dict(
        alert_id="a1", kind="user", rule="user", title="Loss <spiked>",
        text="at step 3", level=1, entity="ent", project="proj", run_id="r1",
        run_name="brave-owl", run_url="http://127.0.0.1:8080/#/ent/proj/r1",
        event_time=1_700_000_000.0, fired_at=1_700_000_001.0, paged=True)
    values.update(changes)
    return AlertRecord(**values)


# ---- secrets ---------------------------------------------------------------------


def test_a_sealed_secret_opens_only_with_its_key_and_channel():
    box = SecretBox(SECRET)
    sealed = box.seal("https://hooks.slack.com/services/T0/B0/xyz1", "c1")
    assert sealed.startswith("v1.") and "hooks.slack.com" not in sealed
    assert box.open(sealed, "c1") == "https://hooks.slack.com/services/T0/B0/xyz1"
    with pytest.raises(SecretError):
        box.open(sealed, "c2")
    with pytest.raises(SecretError):
        SecretBox("z" * 64).open(sealed, "c1")


def test_a_missing_server_secret_is_refused_with_what_to_set():
    with pytest.raises(SecretError, match="LODESTAR_SERVER_SERVER_SECRET"):
        SecretBox("")


def test_masks_keep_the_host_and_four_characters_at_most():
    assert mask("https://hooks.slack.com/services/T0/B0/abcd1234") == (
        "https://hooks.slack.com/…1234")
    assert mask("hunter2") == "…"
    assert mask("") == ""
    # the port stays whole; a short path shows nothing of itself
    assert mask("http://127.0.0.1:18699/h") == "http://127.0.0.1:18699/…"
    assert mask("http://127.0.0.1:18699/hook/token") == "http://127.0.0.1:18699/…oken"


# ---- parsing ---------------------------------------------------------------------


def test_rules_are_checked_and_described():
    rule = parse_rule({"project": "p", "metric": "val/loss", "op": "below",
                       "value": "0.5", "steps": 3}, "ent", "ann")
    assert (rule.kind, rule.op, rule.value, rule.steps) == ("threshold", "below",
                                                            0.5, 3)
    assert rule.describe() == "val/loss below 0.5 for 3 steps"
    stall = parse_rule({"project": "p", "kind": "stall", "stall_s": 1200}, "e", "u")
    assert stall.describe() == "no new step for 1200 s"
    with pytest.raises(InvalidRequest, match="metric: name the metric"):
        parse_rule({"project": "p"}, "ent", "ann")
    with pytest.raises(InvalidRequest, match="op: 'over' is neither"):
        parse_rule({"project": "p", "metric": "m", "op": "over", "value": 1},
                   "e", "u")
    with pytest.raises(InvalidRequest, match="project: a rule watches one project"):
        parse_rule({"metric": "m", "value": 1}, "e", "u")


def test_email_channels_need_addresses_and_a_host():
    settings, secret = parse_email({"to": "a@x.io, b@y.io", "smtp_host": "mail",
                                    "security": "tls", "smtp_password": "pw"})
    assert settings["to"] == ["a@x.io", "b@y.io"] and settings["smtp_port"] == 465
    assert secret == "pw"
    with pytest.raises(InvalidRequest, match="to: 'nobody' is not a list"):
        parse_email({"to": "nobody", "smtp_host": "mail"})
    with pytest.raises(InvalidRequest, match="security: 'ssl' is not one of"):
        parse_email({"to": "a@x.io", "smtp_host": "mail", "security": "ssl"})


def test_kinds_are_known_and_subscriptions_match_scope_kind_and_level():
    assert parse_kinds("nan, crashed") == ("nan", "crashed")
    with pytest.raises(InvalidRequest, match="unknown \\['oom'\\]"):
        parse_kinds(["oom"])
    sub = Subscription("s1", "c1", "ent", "proj", ("crashed",), "warn")
    assert sub.matches("ent", "proj", "crashed", 2)
    assert not sub.matches("ent", "proj", "crashed", 0)
    assert not sub.matches("ent", "other", "crashed", 2)
    assert not sub.matches("ent", "proj", "finished", 2)
    assert Subscription("s2", "c1", "ent").matches("ent", "any", "user", 0)


# ---- streaks ---------------------------------------------------------------------


def _rule(**changes) -> Rule:
    values = dict(id="r1", kind="threshold", entity="e", project="p",
                  metric="loss", op="above", value=2.0, steps=3)
    values.update(changes)
    return Rule(**values)


def _points(values, first=0):
    return [Point(first + i, v, 0.0) for i, v in enumerate(values)]


def test_a_streak_fires_once_at_its_nth_step_and_again_after_a_break():
    state = {"count": 0, "last_step": -(2**63), "fired": False}
    rule = _rule()
    assert _advance(rule, state, _points([3, 3, 1, 3, 3])) is None
    assert _advance(rule, state, _points([3, 4, 5], first=5)).step == 5
    assert _advance(rule, state, _points([1, 3, 3, 3], first=8)).step == 11


def test_steps_seen_before_and_nan_do_not_count():
    state = {"count": 0, "last_step": -(2**63), "fired": False}
    rule = _rule(steps=2)
    assert _advance(rule, state, _points([3])) is None
    assert _advance(rule, state, _points([3])) is None  # the same step again
    assert _advance(rule, state, [Point(1, math.nan, 0.0)]) is None
    assert state["count"] == 0
    assert _advance(_rule(op="below", value=0.0, steps=1), state,
                    _points([-1.0], first=2)).step == 2


# ---- messages --------------------------------------------------------------------


def test_slack_payload_carries_colour_run_project_link_and_text():
    payload = slack_payload(_alert())
    (attachment,) = payload["attachments"]
    assert payload["text"] == "[WARN] Loss <spiked>"
    assert attachment["color"] == "#ecb22e"
    assert attachment["title_link"] == "http://127.0.0.1:8080/#/ent/proj/r1"
    assert attachment["fields"][:2] == [
        {"title": "Run", "value": "brave-owl", "short": True},
        {"title": "Project", "value": "ent/proj", "short": True}]


def test_email_has_the_same_content_in_plain_text_and_escaped_html():
    message = email_message(_alert(level=2), "lodestar@x.io", ["a@x.io"])
    assert message["Subject"] == "[Lodestar ERROR] Loss <spiked>"
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "ERROR: Loss <spiked>" in plain and "Run: brave-owl" in plain
    assert "Loss &lt;spiked&gt;" in html
    assert '<a href="http://127.0.0.1:8080/#/ent/proj/r1">brave-owl</a>' in html


def test_retry_after_reads_seconds_and_ignores_dates():
    headers = email.message.Message()
    headers["Retry-After"] = "7"
    assert slack.retry_after(headers) == 7.0
    headers.replace_header("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT")
    assert slack.retry_after(headers) is None


# ---- the writer's rows -------------------------------------------------------------


def test_alert_log_events_become_rows_of_their_tables():
    fired = events_pb2.Event(seq=1, timestamp=5.0)
    fired.alert_fired.alert_id = "a1"
    fired.alert_fired.rule = "threshold:r9"
    fired.alert_fired.level = events_pb2.ERROR
    fired.alert_fired.paged = True
    attempt = events_pb2.Event(seq=2, timestamp=6.0)
    attempt.delivery.alert_id, attempt.delivery.channel_id = "a1", "c1"
    attempt.delivery.attempt, attempt.delivery.status = 2, "retrying"
    batch = events_pb2.PublishedBatch(entity="e", project="p", run_id="r",
                                      publisher_id="x" * 32, events=[fired, attempt])
    rows = RowSet()
    assert rows.add_batch(batch, stream_seq=3) == 2
    log = rows.tables["alert_log"].columns()
    assert (list(log["kind"]), list(log["rule"]), list(log["level"])) == (
        ["threshold"], ["threshold:r9"], [2])
    deliveries = rows.tables["alert_deliveries"].columns()
    assert (list(deliveries["attempt"]), list(deliveries["status"])) == (
        [2], ["retrying"])


# ---- the SDK ---------------------------------------------------------------------


def test_alerts_travel_in_the_wal_and_bad_arguments_only_warn(workdir):  # noqa: F811
    run = offline(workdir)
    run.alert("ok", "all fine")
    with pytest.warns(LodestarWarning, match="has 70 characters; at most 64"):
        lodestar.alert("x" * 70, level=lodestar.AlertLevel.ERROR,
                       wait_duration=datetime.timedelta(minutes=5))
    with pytest.warns(LodestarWarning) as caught:
        run.alert("odd", level="loud", wait_duration=-1)
    assert [str(w.message)[:28] for w in caught] == [
        "alert level 'LOUD' is not on", "wait_duration -1 is not a nu"]
    assert caught[0].filename == __file__
    run.finish()

    alerts = [e.alert for e in events(run) if e.HasField("alert")]
    assert [(a.title, a.level, a.wait_duration) for a in alerts] == [
        ("ok", events_pb2.INFO, 60.0), ("x" * 64, events_pb2.ERROR, 300.0),
        ("odd", events_pb2.INFO, 60.0)]
