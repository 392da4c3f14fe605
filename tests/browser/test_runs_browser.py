"""The runs table, the sign-in rules and the run page's shell, in Chromium."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import nats
from browser_support import HERE, Dashboard, screenshot, wait_for
from lodestar_server.common import bus
from lodestar_server.common.accounts import hash_key

TIMEOUT_MS = 30_000


def _open(page: Any, url: str, ready: str) -> None:
    page.goto(url)
    page.wait_for_selector(ready, timeout=TIMEOUT_MS)


def _call(dashboard: Dashboard, method: str, path: str, body: Any = None) -> Any:
    request = urllib.request.Request(
        dashboard.base_url + path, method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {dashboard.api_key}",
                 "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        text = answer.read()
        return json.loads(text) if text else None


def _column_ids(page: Any) -> list[str]:
    return page.eval_on_selector_all(
        "#runs-table thead th[data-col]", "(cells) => cells.map((c) => c.dataset.col)")


def _row_ids(page: Any) -> list[str]:
    return page.eval_on_selector_all(
        "#runs-table tbody tr[data-run]", "(rows) => rows.map((r) => r.dataset.run)")


def _choice_path(dashboard: Dashboard) -> str:
    return f"/api/v1/dashboard/columns/{dashboard.entity}/{dashboard.project}/choice"


# ---- sign-in ----------------------------------------------------------------------


def _forget_user(dashboard: Dashboard, user: str, api_key: str) -> None:
    """Remove a test user from the accounts bucket (no admin route removes one)."""
    config = dashboard.platform.config

    async def forget() -> None:
        client = await nats.connect(config.nats_url, user=config.nats_user,
                                    password=config.nats_password, connect_timeout=5)
        try:
            kv = await bus.bucket(client.jetstream(timeout=10), bus.BUCKET_ACCOUNTS)
            for key in (f"key.{hash_key(api_key)}", f"member.{user}.{user}",
                        f"entity.{user}", f"user.{user}"):
                await kv.delete(key)
        finally:
            await client.close()

    # Playwright's sync API holds an event loop in this thread: use another.
    worker = threading.Thread(target=lambda: asyncio.run(forget()))
    worker.start()
    worker.join(30)


def _local_sign_in_works(dashboard: Dashboard) -> bool:
    request = urllib.request.Request(
        dashboard.base_url + "/api/v1/dashboard/session/local", method="POST",
        data=b"{}", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status == 200
    except urllib.error.HTTPError:
        return False


def test_with_a_second_user_everyone_signs_in_with_a_key(
    browser: Any, dashboard: Dashboard
):
    user = "second" + uuid.uuid4().hex[:6]
    _call(dashboard, "POST", "/api/v1/admin/users", {"name": user})
    api_key = _call(dashboard, "POST", "/api/v1/admin/keys", {"user": user})["api_key"]
    context = browser.new_context(base_url=dashboard.base_url)
    try:
        page = context.new_page()
        page.goto("/")  # two users now: no automatic sign-in
        page.wait_for_selector("#login-form", timeout=TIMEOUT_MS)
        assert page.locator("#user-name").count() == 0
        page.fill("#login-key", api_key)
        page.click("#login-form button[type=submit]")
        page.wait_for_selector("#user-name", timeout=TIMEOUT_MS)
        assert page.text_content("#user-name") == user
        page.click("#user-name")
        memberships = page.eval_on_selector_all(
            "#memberships li", "(items) => items.map((i) => i.textContent)")
        assert memberships == [f"{user} user · admin"]
        screenshot(page, "user-menu")
        page.click("#sign-out")
        page.wait_for_selector("#login-form", timeout=TIMEOUT_MS)
        page.reload()
        page.wait_for_selector("#login-form", timeout=TIMEOUT_MS)
    finally:
        context.close()
        _forget_user(dashboard, user, api_key)
    wait_for(lambda: _local_sign_in_works(dashboard),
             "automatic sign-in to work again with one user")


def test_the_signed_in_admin_sees_the_memberships_menu(
    page: Any, dashboard: Dashboard
):
    _open(page, dashboard.base_url + "/#/", "#user-name")
    page.click("#user-name")
    page.wait_for_selector("#memberships li", timeout=TIMEOUT_MS)
    entities = page.eval_on_selector_all(
        "#memberships li", "(items) => items.map((i) => i.dataset.entity)")
    assert entities == [dashboard.entity]
    assert page.text_content("#user-menu .menu p") == (
        "Platform admin: every entity is open.")


# ---- runs table -------------------------------------------------------------------


def test_every_column_header_sorts_on_the_server(page: Any, dashboard: Dashboard):
    _call(dashboard, "DELETE", _choice_path(dashboard))
    _open(page, dashboard.url(), "#runs-table tbody tr[data-run]")
    headers = _column_ids(page)
    assert headers == ["name", "state", "created_at", "runtime", "user", "host",
                       "group", "job_type", "tags", "notes"]
    assert page.locator("#runs-table th.sortable button").count() == len(headers)
    for column, sort in (("runtime", "runtime"), ("host", "host"), ("tags", "tags"),
                         ("group", "group")):
        page.click(f"th[data-col={column}] button")
        expected = [run["id"] for run in dashboard.get(
            f"/api/v1/dashboard/runs/{dashboard.entity}/{dashboard.project}"
            f"?sort=-{sort}")["runs"]]
        # ties (one host for every run) can leave the order as it was, so the
        # header's state says when the new order is drawn
        header = f"th[data-col={column}]"
        wait_for(lambda h=header: page.get_attribute(h, "aria-sort") == "descending",
                 f"the {column} header to sort descending")
        wait_for(lambda e=expected: _row_ids(page) == e, f"runs by {column}")
        assert f"sort=-{sort}" in page.url
    screenshot(page, "runs-sorted-by-group")


def test_table_state_and_selection_reload_from_the_url(page: Any, dashboard: Dashboard):
    _open(page, dashboard.url(filter="config.batch = 32", sort="runtime"),
          "#runs-table tbody tr[data-run]")
    assert sorted(_row_ids(page)) == ["alpha", "beta"]
    page.check("tr[data-run=alpha] td.pick input")
    page.check("tr[data-run=beta] td.pick input")
    wait_for(lambda: "sel=alpha%2Cbeta" in page.url or "sel=beta%2Calpha" in page.url,
             "the selection in the URL")
    page.reload()
    page.wait_for_selector("tr[data-run=alpha] td.pick input:checked",
                           timeout=TIMEOUT_MS)
    assert page.is_checked("tr[data-run=beta] td.pick input")
    assert page.text_content(".selection span") == "2 selected"
    assert page.input_value("#run-filter") == "config.batch = 32"
    assert page.get_attribute("th[data-col=runtime]", "aria-sort") == "ascending"
    page.click("#compare-button")
    page.wait_for_selector("section.chart[data-title='train/loss'] .legend li",
                           timeout=TIMEOUT_MS)
    screenshot(page, "runs-selection-compare")


def test_column_choice_follows_the_user_to_another_browser(
    browser: Any, page: Any, dashboard: Dashboard
):
    _call(dashboard, "DELETE", _choice_path(dashboard))
    _open(page, dashboard.url(), "#runs-table tbody tr[data-run]")
    page.click("#columns-button")
    page.select_option("#add-column", "config.batch")
    page.uncheck("#columns-dialog li[data-col=user] input")
    for _ in range(2):  # above user (hidden), then above runtime
        page.click("#columns-dialog li[data-col=host] button[title='Move up']")
    page.click("#columns-dialog .dialog-actions .primary")
    page.wait_for_selector("#runs-table th[data-col='config.batch']")
    expected = ["name", "state", "created_at", "host", "runtime", "group", "job_type",
                "tags", "notes", "config.batch"]
    wait_for(lambda: (_call(dashboard, "GET", _choice_path(dashboard))["order"]
                      or [])[3:4] == ["host"], "the choice to reach the server")

    elsewhere = browser.new_context(viewport={"width": 1440, "height": 900},
                                    base_url=dashboard.base_url)
    try:
        elsewhere.add_cookies([{"name": "lodestar_key", "value": dashboard.api_key,
                                "url": dashboard.base_url}])
        other = elsewhere.new_page()
        _open(other, dashboard.url(), "#runs-table th[data-col='config.batch']")
        assert _column_ids(other) == expected
        screenshot(other, "runs-columns-elsewhere")
    finally:
        elsewhere.close()
        _call(dashboard, "DELETE", _choice_path(dashboard))


def test_the_pager_shows_the_page_and_the_page_count(page: Any, dashboard: Dashboard):
    _open(page, dashboard.url(), "#page-number")
    assert page.get_attribute("#page-number", "max") == "1"
    assert page.input_value("#page-number") == "1"


# ---- run page ---------------------------------------------------------------------


def test_run_tab_and_searches_reload_to_the_same_view(page: Any, dashboard: Dashboard):
    _open(page, dashboard.url("runs", "gamma", tab="config"), "#config-table")
    assert page.get_attribute("a[data-tab=config]", "class") == "active"
    page.click("a[data-tab=summary]")
    page.wait_for_selector("#summary-table tr[data-key=acc]")
    assert "tab=summary" in page.url
    page.reload()
    page.wait_for_selector("#summary-table tr[data-key=acc]", timeout=TIMEOUT_MS)
    assert page.get_attribute("a[data-tab=summary]", "class") == "active"
    screenshot(page, "run-summary")


def test_tags_and_notes_are_edited_on_the_run_page(page: Any, dashboard: Dashboard):
    _open(page, dashboard.url("runs", "gamma"), "#new-tag")
    page.fill("#new-tag", "keeper")
    page.press("#new-tag", "Enter")
    page.wait_for_selector("#run-tags .tag:has-text('keeper')", timeout=TIMEOUT_MS)
    page.fill("#run-notes", "looks stable")
    page.click(".notes button")
    wait_for(lambda: dashboard.run("gamma")["notes"] == "looks stable", "saved notes")
    assert dashboard.run("gamma")["tags"] == ["keeper"]
    page.reload()
    page.wait_for_selector("#run-tags .tag:has-text('keeper')", timeout=TIMEOUT_MS)
    assert page.input_value("#run-notes") == "looks stable"
    screenshot(page, "run-edited")
    page.click("#run-tags button[title='Remove tag keeper']")
    page.wait_for_selector("#run-tags .tag", state="detached", timeout=TIMEOUT_MS)
    page.fill("#run-notes", "")
    page.click(".notes button")
    wait_for(lambda: dashboard.run("gamma")["notes"] == "", "cleared notes")
    assert dashboard.run("gamma")["tags"] == []


def _git_checkout(folder: Path) -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=folder, check=True, text=True,
                              capture_output=True, timeout=30).stdout.strip()

    git("init", "-q")
    (folder / "train.txt").write_text("a training repository\n")
    git("add", "train.txt")
    git("-c", "user.name=T", "-c", "user.email=t@example.invalid",
        "commit", "-qm", "first")
    return git("rev-parse", "HEAD")


def _samples(page: Any) -> int:
    return int(page.get_attribute(".tab-body", "data-samples") or "0")


def test_run_page_follows_a_training_run_live(
    page: Any, dashboard: Dashboard, tmp_path: Path
):
    commit = _git_checkout(tmp_path)
    stop = tmp_path / "stop"
    env = {**dashboard.platform.env, "LIVE_PROJECT": dashboard.project,
           "LODESTAR_SYSTEM_METRICS_INTERVAL": "0.5"}
    process = subprocess.Popen(
        [sys.executable, str(HERE / "log_live.py"), "ticking", str(stop)],
        env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: dashboard.get(
            f"/api/v1/runs/{dashboard.entity}/{dashboard.project}/ticking/system"
            "?samples=10")["rows"], "the first system samples")
        _open(page, dashboard.url("runs", "ticking", tab="system"),
              "#system-charts canvas")
        assert page.text_content("dd[data-fact=commit]") == commit[:12]
        assert "log_live.py" in page.text_content("pre.command")
        runtime = page.text_content("dd[data-fact=runtime]")
        wait_for(lambda: page.text_content("dd[data-fact=runtime]") != runtime,
                 "the runtime to count up")
        first = _samples(page)
        wait_for(lambda: _samples(page) > first, "the system charts to grow live")
        screenshot(page, "run-system-live")

        page.click("a[data-tab=console]")
        page.fill("#console-search", "loss")
        page.wait_for_selector("#console div", timeout=TIMEOUT_MS)
        shown = page.locator("#console div").count()
        wait_for(lambda: page.locator("#console div").count() > shown,
                 "the console to grow under the search")
        assert page.input_value("#console-search") == "loss"
        assert "cq=loss" in page.url
        screenshot(page, "run-console-live")
        stop.write_text("")
        page.wait_for_selector(".run-head .state-finished", timeout=TIMEOUT_MS)
    finally:
        stop.write_text("")
        process.wait(timeout=120)
    assert process.returncode == 0
