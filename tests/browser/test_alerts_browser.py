"""The alert settings page in a real headless Chromium: channels with a test
send to a webhook receiver on loopback, subscriptions, rules, the delivery
log, the service's validation messages, and a down alerts service."""

from __future__ import annotations

import json
import threading
import urllib.parse
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from browser_support import Dashboard, screenshot, wait_for

TIMEOUT_MS = 30_000


class Receiver:
    """A webhook stand-in on 127.0.0.1: ``/ok/NAME`` answers 200 and keeps the
    JSON posted, any other path answers 404."""

    def __init__(self) -> None:
        self.posts: dict[str, list[Any]] = {}
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                owner.take(self, body)

            def log_message(self, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/{path}"

    def take(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        found = handler.path.startswith("/ok/")
        if found:
            self.posts.setdefault(handler.path[4:], []).append(json.loads(body))
        handler.send_response(200 if found else 404)
        handler.send_header("Content-Type", "text/plain")
        handler.end_headers()
        handler.wfile.write(b"ok" if found else b"no_such_hook")

    def titles(self, name: str) -> list[str]:
        return [p["attachments"][0]["title"] for p in self.posts.get(name, [])]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    hooks = Receiver()
    yield hooks
    hooks.close()


def _open(page: Any, dashboard: Dashboard, hash_: str = "") -> None:
    page.goto(dashboard.base_url + "/#/alerts" + hash_)
    page.wait_for_selector("#channel-form, .alerts-down", timeout=TIMEOUT_MS)
    page.wait_for_selector(".alerts-part[data-part=log] .log-body > :not(.loading)",
                           timeout=TIMEOUT_MS)


def _add_webhook(page: Any, name: str, url: str) -> Any:
    page.fill("#channel-form [name=name]", name)
    page.fill("#channel-form [name=url]", url)
    page.click("#channel-form button[type=submit]")
    return page.wait_for_selector(f"#alerts-channels tr[data-name='{name}']",
                                  timeout=TIMEOUT_MS)


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def test_a_test_alert_reaches_the_loopback_receiver_and_shows_delivered(
    page: Any, dashboard: Dashboard, receiver: Receiver
):
    _open(page, dashboard)
    name = _name("hook")
    url = receiver.url(f"ok/{name}")
    row = _add_webhook(page, name, url)
    assert row.query_selector("td:nth-child(4)").text_content() == (
        f"http://127.0.0.1:{urllib.parse.urlsplit(url).port}/…" + name[-4:])
    row.query_selector("[data-action=test]").click()
    result = page.wait_for_selector(
        f"tr[data-name='{name}'] .test-result.sent", timeout=TIMEOUT_MS)
    assert result.text_content() == "delivered"
    assert receiver.titles(name) == [f"Test message for channel {name}"]
    screenshot(page, "alerts-test-delivered")

    broken = _name("gone")
    _add_webhook(page, broken, receiver.url(f"gone/{broken}"))
    page.click(f"tr[data-name='{broken}'] [data-action=test]")
    failed = page.wait_for_selector(f"tr[data-name='{broken}'] .test-result.failed",
                                    timeout=TIMEOUT_MS)
    assert failed.text_content() == (
        "failed: 127.0.0.1 answered HTTP 404 (no_such_hook): the webhook URL is "
        "wrong or revoked; add the channel again with a working URL")
    screenshot(page, "alerts-test-failed")


def test_an_invalid_webhook_url_shows_the_services_message_at_the_field(
    page: Any, dashboard: Dashboard
):
    _open(page, dashboard)
    before = page.locator("#alerts-channels tbody tr").count()
    page.fill("#channel-form [name=name]", _name("bad"))
    page.fill("#channel-form [name=url]", "hooks.example.invalid/abc")
    page.click("#channel-form button[type=submit]")
    error = page.wait_for_selector(
        "#channel-form [data-field=url] .field-error:not(:empty)", timeout=TIMEOUT_MS)
    assert error.text_content() == (
        "give the Slack incoming-webhook URL (https://hooks.slack.com/...)")
    assert page.get_attribute("#channel-form [name=url]", "aria-invalid") == "true"
    assert page.locator("#alerts-channels tbody tr").count() == before
    screenshot(page, "alerts-invalid-url")

    page.select_option("#channel-form [name=type]", "email")
    page.fill("#channel-form [name=to]", "not an address")
    page.click("#channel-form button[type=submit]")
    to_error = page.wait_for_selector(
        "#channel-form [data-field=to] .field-error:not(:empty)", timeout=TIMEOUT_MS)
    assert to_error.text_content() == "'not an address' is not a list of addresses"


def test_a_subscription_and_a_rule_from_the_forms_are_listed_after_a_reload(
    page: Any, dashboard: Dashboard, receiver: Receiver
):
    _open(page, dashboard)
    name = _name("subs")
    channel = _add_webhook(page, name, receiver.url(f"ok/{name}"))
    channel_id = channel.get_attribute("data-channel")
    page.select_option("#subscription-form [name=channel_id]", channel_id)
    page.fill("#subscription-form [name=project]", dashboard.project)
    page.check("#subscription-form input[name=kinds][value=user]")
    page.check("#subscription-form input[name=kinds][value=crashed]")
    page.select_option("#subscription-form [name=min_level]", "warn")
    page.click("#subscription-form button[type=submit]")
    page.wait_for_selector(f"#alerts-subscriptions tr[data-channel='{channel_id}']",
                           timeout=TIMEOUT_MS)

    page.fill("#rule-form [name=project]", dashboard.project)
    page.fill("#rule-form [name=metric]", "val/loss")
    page.fill("#rule-form [name=value]", "2.0")
    page.fill("#rule-form [name=steps]", "3")
    page.click("#rule-form button[type=submit]")
    words = (f"val/loss > 2 for 3 steps in a row in project "
             f"{dashboard.entity}/{dashboard.project}")
    page.wait_for_selector(f"#alerts-rules td.rule-words:text-is('{words}')",
                           timeout=TIMEOUT_MS)

    page.reload()
    sub = page.wait_for_selector(
        f"#alerts-subscriptions tr[data-channel='{channel_id}']", timeout=TIMEOUT_MS)
    assert [c.text_content() for c in sub.query_selector_all("td")][:4] == [
        name, f"{dashboard.entity}/{dashboard.project}", "user, crashed",
        "warn and above"]
    page.wait_for_selector(f"#alerts-rules td.rule-words:text-is('{words}')",
                           timeout=TIMEOUT_MS)
    screenshot(page, "alerts-subscription-rule")


def test_a_stall_rule_needs_its_seconds_and_delete_removes_rows(
    page: Any, dashboard: Dashboard, receiver: Receiver
):
    _open(page, dashboard)
    page.select_option("#rule-form [name=kind]", "stall")
    page.fill("#rule-form [name=project]", dashboard.project)
    page.fill("#rule-form [name=tag]", "nightly")
    page.click("#rule-form button[type=submit]")
    error = page.wait_for_selector(
        "#rule-form [data-field=stall_s] .field-error:not(:empty)", timeout=TIMEOUT_MS)
    assert error.text_content() == "None is not a number"
    page.fill("#rule-form [name=stall_s]", "600")
    page.click("#rule-form button[type=submit]")
    words = (f"no new step for 600 s in project {dashboard.entity}/"
             f"{dashboard.project}, tag nightly")
    rule = page.wait_for_selector(f"#alerts-rules tr:has(td:text-is('{words}'))",
                                  timeout=TIMEOUT_MS)
    rule_id = rule.get_attribute("data-rule")

    page.on("dialog", lambda dialog: dialog.accept())
    rule.query_selector("[data-action=delete]").click()
    page.wait_for_selector(f"tr[data-rule='{rule_id}']", state="detached",
                           timeout=TIMEOUT_MS)

    name = _name("doomed")
    channel = _add_webhook(page, name, receiver.url(f"ok/{name}"))
    channel_id = channel.get_attribute("data-channel")
    page.select_option("#subscription-form [name=channel_id]", channel_id)
    page.click("#subscription-form button[type=submit]")
    page.wait_for_selector(f"#alerts-subscriptions tr[data-channel='{channel_id}']",
                           timeout=TIMEOUT_MS)
    page.click(f"#alerts-channels tr[data-channel='{channel_id}'] [data-action=delete]")
    page.wait_for_selector(f"tr[data-channel='{channel_id}']", state="detached",
                           timeout=TIMEOUT_MS)
    page.reload()
    page.wait_for_selector("#channel-form", timeout=TIMEOUT_MS)
    assert page.locator(f"tr[data-channel='{channel_id}']").count() == 0
    assert page.locator(f"tr[data-rule='{rule_id}']").count() == 0
    screenshot(page, "alerts-after-delete")


def test_the_delivery_log_shows_a_run_alert_delivered_and_filters_it(
    page: Any, dashboard: Dashboard, receiver: Receiver
):
    _open(page, dashboard)
    project, name, title = _name("alerting"), _name("log"), _name("lr too high")
    channel = _add_webhook(page, name, receiver.url(f"ok/{name}"))
    channel_id = channel.get_attribute("data-channel")
    page.select_option("#subscription-form [name=channel_id]", channel_id)
    page.fill("#subscription-form [name=project]", project)
    page.click("#subscription-form button[type=submit]")
    page.wait_for_selector(f"#alerts-subscriptions tr[data-channel='{channel_id}']",
                           timeout=TIMEOUT_MS)

    dashboard.run_logger("log_alert.py", project, title)
    wait_for(lambda: title in receiver.titles(name), "the alert at the receiver")

    page.goto(dashboard.base_url + "/#/alerts?log_project=" + project)
    row = f"#alerts-log tr:has(strong:text-is('{title}'))"

    def listed() -> bool:
        page.click("#log-refresh")
        page.wait_for_selector(".log-body > :not(.loading)", timeout=TIMEOUT_MS)
        return page.locator("#alerts-log .outcome-sent").count() == 2

    wait_for(listed, "the run's two alerts delivered in the page's log")
    outcome = page.text_content(row + " .outcome")
    assert outcome == f"{name}: delivered"
    assert page.text_content(row + " td:nth-child(3)") == "user"
    screenshot(page, "alerts-log")

    page.select_option("#log-status", "failed")
    page.wait_for_selector(".log-body .empty", timeout=TIMEOUT_MS)
    assert "log_status=failed" in page.url
    page.reload()
    page.wait_for_selector(".log-body .empty", timeout=TIMEOUT_MS)
    page.select_option("#log-status", "sent")
    page.select_option("#log-channel", channel_id)
    page.wait_for_selector(row, timeout=TIMEOUT_MS)
    assert sorted(page.eval_on_selector_all(
        "#alerts-log tbody tr strong", "(cells) => cells.map((c) => c.textContent)"
    )) == sorted([title, "Run alerting finished"])
    assert page.text_content("#log-count") == "1–2 of 2 alerts"


def _fake_alert(i: int, entity: str) -> dict[str, Any]:
    return {"alert_id": f"a{i:03d}", "kind": "threshold", "rule": "r1",
            "title": f"alert {i:03d}", "text": "", "level": i % 3, "paged": True,
            "reason": "", "event_time": 1.7e9 + i, "fired_at": 1.7e9 + i,
            "entity": entity, "project": "p", "run_id": "",
            "attempts": [{"channel_id": "c1", "attempt": 1,
                          "status": "failed" if i % 2 else "sent",
                          "error": "HTTP 500" if i % 2 else "",
                          "timestamp": 1.7e9 + i}]}


def test_a_long_delivery_log_pages_newest_first_and_the_page_is_in_the_url(
    page: Any, dashboard: Dashboard
):
    log = {"alerts": [_fake_alert(i, dashboard.entity) for i in range(45)]}
    page.route("**/api/v1/dashboard/svc/alerts/alerts/log?*", lambda route:
               route.fulfill(status=200, content_type="application/json",
                             body=json.dumps(log)))
    _open(page, dashboard)
    assert page.text_content("#log-count") == "1–20 of 45 alerts"
    assert page.text_content("#alerts-log tbody tr strong") == "alert 044"
    page.click("#log-older")
    page.wait_for_selector("#log-count:text-is('21–40 of 45 alerts')")
    assert "log_page=1" in page.url
    page.reload()
    page.wait_for_selector("#log-count:text-is('21–40 of 45 alerts')",
                           timeout=TIMEOUT_MS)
    assert page.text_content("#alerts-log tbody tr strong") == "alert 024"
    failed = page.locator("#alerts-log .outcome-failed").first
    assert failed.text_content() == "c1: failed (HTTP 500)"
    screenshot(page, "alerts-log-paged")
    page.select_option("#log-status", "failed")
    page.wait_for_selector("#log-count:text-is('1–20 of 22 alerts')")

    page.set_viewport_size({"width": 2200, "height": 1200})
    page.click("#theme")
    page.wait_for_selector("html[data-theme=dark] #log-count:text-is("
                           "'1–20 of 22 alerts')", timeout=TIMEOUT_MS)
    screenshot(page, "alerts-dark-wide")


def test_a_down_alerts_service_is_said_plainly_and_the_page_still_renders(
    page: Any, dashboard: Dashboard
):
    detail = ("the http://127.0.0.1:1 service did not answer (connection refused); "
              "check 'lodestar server status'")
    page.route("**/api/v1/dashboard/svc/alerts/**", lambda route: route.fulfill(
        status=502, content_type="application/json",
        body=json.dumps({"detail": detail})))
    _open(page, dashboard)
    notice = page.wait_for_selector(".alerts-down", timeout=TIMEOUT_MS)
    assert notice.query_selector("strong").text_content() == (
        "The alerts service is not answering")
    assert page.locator(".alerts-part").count() == 4
    assert page.locator(".alerts-part div.error").count() == 4
    assert page.locator(".alerts-part div.error p").first.text_content() == detail
    assert page.text_content("#alerts-role").startswith(
        f"Signed in as {dashboard.entity}")
    screenshot(page, "alerts-down")
