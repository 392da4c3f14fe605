"""Hostile input in a real Chromium: very long values, bad addresses, bad filters.

The long runs (logged by ``log_long.py``) live in a project of their own. Each
view must fit the viewport's width: long text is cut with an ellipsis and kept
whole in a tooltip, never pushed off the page.
"""

from __future__ import annotations

import json
import urllib.error
import uuid
from typing import Any
from urllib.parse import quote

import pytest
from browser_support import Dashboard, screenshot, wait_for

TIMEOUT_MS = 30_000
NAME = "N" * 5000
TAG = "t" * 300
METRIC = "m" * 256
CONFIG_KEY = "k" * 10_000
WIDTH = """() => [document.documentElement.scrollWidth, window.innerWidth,
  [...document.querySelectorAll('body *')]
    .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
    .slice(0, 4).map((e) => e.tagName + '.' + e.className)]"""


@pytest.fixture(scope="module")
def board(dashboard: Dashboard) -> Dashboard:
    """A project of its own, so the other tests keep their runs."""
    return Dashboard(dashboard.platform, "long-" + uuid.uuid4().hex[:6])


@pytest.fixture(scope="module")
def long_runs(board: Dashboard) -> Dashboard:
    """Two finished runs whose name, tag, config key and metric are very long."""
    board.run_logger("log_long.py", board.project)

    def stored() -> bool:
        page = board.get(f"/api/v1/dashboard/runs/{board.entity}/{board.project}"
                         "?filter=state%20%3D%20finished")
        if page["total"] != 2:
            return False
        keys = board.get(f"/api/v1/runs/{board.entity}/{board.project}/long2/keys")
        return METRIC in keys["keys"]

    wait_for(stored, "both long runs to be finished and queryable")
    return board


def _open(page: Any, url: str, ready: str) -> None:
    page.goto(url)
    page.wait_for_selector(ready, timeout=TIMEOUT_MS)


def _assert_fits(page: Any, view: str) -> None:
    scroll, inner, wide = page.evaluate(WIDTH)
    screenshot(page, f"long-{view}")
    assert scroll <= inner, f"{view}: page {scroll} px wide in {inner} px: {wide}"


def _width(page: Any, selector: str) -> float:
    return page.eval_on_selector(selector, "(e) => e.getBoundingClientRect().width")


def _right(page: Any, selector: str) -> float:
    return page.eval_on_selector(selector, "(e) => e.getBoundingClientRect().right")


def _values(page: Any, selector: str) -> list[str]:
    return page.eval_on_selector_all(selector, "(os) => os.map((o) => o.value)")


# ---- long values ------------------------------------------------------------------


def test_projects_page_fits_with_a_long_summary_metric(page: Any, long_runs: Dashboard):
    _open(page, f"{long_runs.base_url}/#/", f"tr[data-project='{long_runs.project}']")
    assert METRIC in _values(page, "#spark-metric option")
    assert _width(page, "#spark-metric") <= 320
    _assert_fits(page, "projects")
    _open(page, f"{long_runs.base_url}/#/?metric={METRIC}",
          f"tr[data-project='{long_runs.project}'] svg.sparkline path")
    assert page.eval_on_selector("#spark-metric", "(s) => s.value") == METRIC
    assert page.get_attribute("table.projects th:last-child", "title") == METRIC
    _assert_fits(page, "projects-metric")


def test_runs_table_cuts_long_names_and_tags(page: Any, long_runs: Dashboard):
    _open(page, long_runs.url(), "#runs-table tr[data-run=long2]")
    name = "#runs-table tr[data-run=long1] td[data-col=name]"
    assert page.get_attribute(name + " a", "title") == NAME
    assert _width(page, name) <= 400
    tag = "#runs-table tr[data-run=long1] td[data-col=tags] .tag"
    assert page.get_attribute(tag, "title") == TAG
    assert _width(page, tag) <= 260
    _assert_fits(page, "runs")


def test_run_header_and_tags_stay_inside_the_page(page: Any, long_runs: Dashboard):
    _open(page, long_runs.url("runs", "long1", tab="config"), "#config-table")
    head = _right(page, ".run-head")
    assert _right(page, ".run-head h1") <= head
    assert page.get_attribute(".run-head h1", "title") == NAME
    assert page.get_attribute("#run-tags .tag", "title") == TAG
    assert _right(page, "#run-tags .tag") <= head
    key = f"#config-table tr[data-key='{CONFIG_KEY}'] td.key"
    assert page.get_attribute(key, "title") == CONFIG_KEY
    _assert_fits(page, "run-config")


def test_run_charts_toolbar_and_legend_fit(page: Any, long_runs: Dashboard):
    _open(page, long_runs.url("runs", "long1"),
          f"section.chart[data-title='{METRIC}'] .legend li")
    assert _width(page, "#x-axis") <= 320
    assert METRIC in _values(page, "#x-axis option")
    chart = f"section.chart[data-title='{METRIC}']"
    assert _right(page, chart + " .legend li") <= _right(page, chart)
    assert page.get_attribute(chart + " .legend li", "title") == "Show or hide " + NAME
    _assert_fits(page, "run-charts")
    page.set_viewport_size({"width": 1280, "height": 800})
    wait_for(lambda: page.evaluate("window.innerWidth") == 1280, "the narrower window")
    _assert_fits(page, "run-charts-1280")


def test_compare_fits_with_long_names_and_config_keys(page: Any, long_runs: Dashboard):
    _open(page, long_runs.url("compare", runs="long1,long2"),
          f"section.chart[data-title='{METRIC}'] .legend li")
    page.wait_for_selector("#config-diff", timeout=TIMEOUT_MS)
    chips = page.eval_on_selector_all(".run-chips li a",
                                      "(links) => links.map((a) => a.title)")
    assert chips == [NAME, NAME + "2"]
    key = f"#config-diff tr[data-key='{CONFIG_KEY}'] td.key"
    assert page.get_attribute(key, "title") == CONFIG_KEY
    _assert_fits(page, "compare")


# ---- bad addresses ----------------------------------------------------------------


def test_a_malformed_address_clears_the_breadcrumb(page: Any, long_runs: Dashboard):
    _open(page, long_runs.url(), "#runs-table")
    assert page.text_content("#crumbs") == f"{long_runs.entity} / {long_runs.project}"
    page.goto(f"{long_runs.base_url}/#/%E0%A4%A/%%/x")
    page.wait_for_selector("#bad-address", timeout=TIMEOUT_MS)
    assert page.text_content("#bad-address strong") == "This address is not valid"
    assert page.text_content("#crumbs") == ""
    assert page.title() == "Lodestar · invalid address"
    screenshot(page, "bad-address")
    page.click("#bad-address a")
    page.wait_for_selector("table.projects", timeout=TIMEOUT_MS)


def test_an_unknown_entity_says_it_does_not_exist(page: Any, long_runs: Dashboard):
    _open(page, f"{long_runs.base_url}/#/nobody-{uuid.uuid4().hex[:4]}/x",
          "#runs-missing")
    entity = page.url.split("/#/")[1].split("/")[0]
    assert page.text_content("#runs-missing strong") == (
        f"Entity {entity} does not exist, or you are not a member of it")
    assert page.locator("#runs-table").count() == 0
    screenshot(page, "unknown-entity")


def test_an_unknown_project_says_it_has_no_runs(page: Any, long_runs: Dashboard):
    _open(page, long_runs.url().replace(long_runs.project, "no-such-project"),
          "#runs-missing")
    assert page.text_content("#runs-missing strong") == (
        f"No project no-such-project in {long_runs.entity}")
    assert page.text_content("#runs-missing p") == (
        "It has no runs: it does not exist yet, or every run was deleted. "
        'Log one with lodestar.init(project="no-such-project").')
    screenshot(page, "unknown-project")


# ---- bad filters ------------------------------------------------------------------


def _filter_message(dashboard: Dashboard, text: str) -> str:
    """The service's answer to a filter it refuses."""
    path = (f"/api/v1/dashboard/runs/{dashboard.entity}/{dashboard.project}"
            f"?filter={quote(text)}")
    with pytest.raises(urllib.error.HTTPError) as refused:
        dashboard.get(path)
    assert refused.value.code in (400, 422)
    return json.loads(refused.value.read())["detail"]


def test_a_bad_filter_keeps_the_rows_and_shows_why(page: Any, long_runs: Dashboard):
    bad = "summary.acc >="
    message = _filter_message(long_runs, bad)
    _open(page, long_runs.url(), "#runs-table tr[data-run=long2]")
    page.fill("#run-filter", bad)
    page.press("#run-filter", "Enter")
    wait_for(lambda: page.text_content(".filter-error") == message,
             "the server's message under the filter")
    assert page.get_attribute("#run-filter", "aria-invalid") == "true"
    assert page.text_content("#filter-note") == (
        "The table still shows the runs of the last filter that worked.")
    rows = page.eval_on_selector_all("#runs-table tbody tr[data-run]",
                                     "(rows) => rows.map((r) => r.dataset.run)")
    assert sorted(rows) == ["long1", "long2"]
    assert page.locator("div.error").count() == 0
    screenshot(page, "bad-filter")
    page.fill("#run-filter", "")
    page.press("#run-filter", "Enter")
    wait_for(lambda: page.text_content(".filter-error") == "", "the message to clear")
    assert page.get_attribute("#run-filter", "aria-invalid") is None


def test_a_bad_filter_in_the_address_says_why(page: Any, long_runs: Dashboard):
    bad = "summary.acc >="
    message = _filter_message(long_runs, bad)
    _open(page, long_runs.url(filter=bad), ".filter-error:not(:empty)")
    assert page.text_content(".filter-error") == message
    assert page.text_content(".table-wrap .empty strong") == "The filter cannot be used"
    assert page.locator("#runs-table").count() == 0
    assert page.text_content(".pager") == ""
