"""The dashboard in a real headless Chromium, against real logged runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from browser_support import Dashboard, canvas_ink, screenshot, wait_for

TIMEOUT_MS = 30_000


def _open(page: Any, url: str, ready: str) -> None:
    page.goto(url)
    page.wait_for_selector(ready, timeout=TIMEOUT_MS)


def _run_names(page: Any) -> list[str]:
    return page.eval_on_selector_all(
        "#runs-table tbody tr[data-run] td[data-col=name]",
        "(cells) => cells.map((c) => c.textContent)",
    )


def test_sign_out_then_sign_in_with_an_api_key(browser: Any, dashboard: Dashboard):
    context = browser.new_context(base_url=dashboard.base_url)
    page = context.new_page()

    page.goto("/")  # one user, from loopback: signed in without asking
    page.wait_for_selector("#user-name", timeout=TIMEOUT_MS)
    assert page.text_content("#user-name").startswith(dashboard.entity)
    page.click("#sign-out")
    page.wait_for_selector("#login-form", timeout=TIMEOUT_MS)
    page.reload()  # signing out sticks: no automatic sign-in again
    page.wait_for_selector("#login-form", timeout=TIMEOUT_MS)
    page.fill("#login-key", "lsk_not-a-key")
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#login-error:has-text('unknown or revoked')")
    screenshot(page, "signin")
    page.fill("#login-key", dashboard.api_key)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector(f"tr[data-project='{dashboard.project}']",
                           timeout=TIMEOUT_MS)
    context.close()


def test_projects_page_lists_the_project_with_its_run_count(
    page: Any, dashboard: Dashboard
):
    _open(page, dashboard.base_url + "/#/?metric=acc",
          f"tr[data-project='{dashboard.project}']")
    row = page.locator(f"tr[data-project='{dashboard.project}']")
    assert row.locator("td").nth(1).text_content() == "5"
    assert row.locator("svg.sparkline path").count() == 1
    screenshot(page, "projects")


def test_runs_table_sorts_and_filters_on_the_server(page: Any, dashboard: Dashboard):
    _open(page, dashboard.url(), "#runs-table tbody tr[data-run]")
    assert page.text_content("#run-count") == "1–5 of 5 runs"
    assert page.locator("#runs-table tbody tr[data-run] .state-finished").count() == 5

    page.click("th[data-col=name] button")
    wait_for(lambda: _run_names(page) == ["gamma", "ddp-rank1", "ddp-rank0", "beta",
                                          "alpha"], "names sorted descending")
    page.click("th[data-col=name] button")
    wait_for(lambda: _run_names(page)[0] == "alpha", "names sorted ascending")

    page.fill("#run-filter", "config.lr >= 0.01 and config.optimizer = adam")
    page.press("#run-filter", "Enter")
    wait_for(lambda: _run_names(page) == ["alpha"], "the filtered page")
    assert "filter=" in page.url and "sort=display_name" in page.url
    screenshot(page, "runs-filtered")

    page.fill("#run-filter", "colour = blue")
    page.press("#run-filter", "Enter")
    page.wait_for_selector(".filter-error:has-text('unknown field')")


def test_runs_table_columns_are_chosen_and_remembered(page: Any, dashboard: Dashboard):
    _open(page, dashboard.url(), "#runs-table tbody tr[data-run]")
    page.click("#columns-button")
    page.select_option("#add-column", "config.lr")
    page.uncheck("#columns-dialog li[data-col=notes] input")
    page.click("#columns-dialog .dialog-actions .primary")
    page.wait_for_selector("#runs-table th[data-col='config.lr']")
    page.reload()
    page.wait_for_selector("#runs-table th[data-col='config.lr']", timeout=TIMEOUT_MS)
    assert page.locator("#runs-table th[data-col=notes]").count() == 0
    page.click("th[data-col='config.lr'] button")
    wait_for(lambda: _run_names(page)[0] == "beta", "runs by lr, highest first")
    screenshot(page, "runs-columns")


def test_run_page_draws_one_chart_per_metric_grouped_by_prefix(
    page: Any, dashboard: Dashboard
):
    _open(page, dashboard.url("runs", "alpha"), "section.chart canvas")
    page.wait_for_selector("section.chart[data-title='train/loss'] canvas")
    sections = page.eval_on_selector_all(
        "details.chart-section", "(items) => items.map((d) => d.dataset.prefix)")
    assert sections == ["", "train", "val"]
    assert canvas_ink(page, "section.chart[data-title='train/loss']") > 500
    legend = page.text_content("section.chart[data-title='train/loss'] .legend")
    assert legend == "alpha"
    assert page.text_content("dd[data-fact=host]")
    page.hover("section.chart[data-title='train/loss'] .u-over", position={"x": 60,
                                                                           "y": 60})
    page.wait_for_selector("section.chart[data-title='train/loss'] .tooltip:visible")
    screenshot(page, "run")

    page.fill("#key-search", "val/")
    page.wait_for_selector("details.chart-section[data-prefix=train]", state="hidden")
    counts = page.eval_on_selector_all(
        "details.chart-section:not([hidden]) .section-count",
        "(items) => items.map((c) => c.textContent.trim())")
    assert counts == [str(page.locator("section.chart[data-title^='val/']").count())]
    page.fill("#key-search", "zzz")
    assert page.text_content(".no-match strong") == "No metrics match 'zzz'"
    page.fill("#key-search", "")
    page.wait_for_selector("details.chart-section[data-prefix=train]", state="visible")
    assert page.locator(".no-match").count() == 0

    page.click("a[data-tab=config]")
    page.fill("#config-search", "optim")
    assert page.locator("#config-table tr:visible").count() == 1
    screenshot(page, "run-config")


def test_chart_tools_smooth_zoom_and_export(page: Any, dashboard: Dashboard,
                                            tmp_path: Path):
    _open(page, dashboard.url("runs", "alpha"),
          "section.chart[data-title='train/loss'] canvas")
    chart = "section.chart[data-title='train/loss']"
    page.fill("#smoothing", "0.8")
    page.dispatch_event("#smoothing", "input")
    assert "smooth=0.8" in page.url
    plot = page.locator(chart + " .u-over")
    plot.scroll_into_view_if_needed()  # the header above may push it down
    box = plot.bounding_box()
    page.mouse.move(box["x"] + 40, box["y"] + 40)
    page.mouse.down()
    page.mouse.move(box["x"] + 140, box["y"] + 60, steps=5)
    page.mouse.up()
    page.wait_for_selector(chart + ".zoomed")
    with page.expect_download() as csv:
        page.click(chart + " [data-action=csv]")
    lines = Path(csv.value.path()).read_text().splitlines()
    assert lines[0].startswith("_step,alpha,")
    assert 2 < len(lines) < 302  # only the zoomed range
    with page.expect_download() as png:
        page.click(chart + " [data-action=png]")
    assert Path(png.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page.click(chart + " [data-action=full]")
    page.wait_for_selector(chart + ".full")
    screenshot(page, "chart-full")


def test_compare_overlays_runs_and_shows_the_config_diff(
    page: Any, dashboard: Dashboard
):
    _open(page, dashboard.url(), "#runs-table tbody tr[data-run]")
    for run_id in ("alpha", "beta", "gamma"):
        page.check(f"tr[data-run={run_id}] td.pick input")
    page.click("#compare-button")
    page.wait_for_selector("section.chart[data-title='train/loss'] canvas",
                           timeout=TIMEOUT_MS)
    legend = page.eval_on_selector_all(
        "section.chart[data-title='train/loss'] .legend li",
        "(items) => items.map((i) => i.textContent)")
    assert sorted(legend) == ["alpha", "beta", "gamma"]
    assert canvas_ink(page, "section.chart[data-title='train/loss']") > 500
    diff_keys = page.eval_on_selector_all(
        "#config-diff tbody tr", "(rows) => rows.map((r) => r.dataset.key)")
    assert diff_keys == ["batch", "lr", "optimizer"]
    page.click("section.chart[data-title='train/loss'] .legend li[data-run=beta]")
    page.wait_for_selector(
        "section.chart[data-title='train/loss'] .legend li.off[data-run=beta]")
    screenshot(page, "compare")

    page.check("#diff-all")
    page.wait_for_selector("#diff-all:checked")
    _open(page, dashboard.url("compare", runs="rank0,rank1"), "#config-diff, .empty")
    assert page.locator("#config-diff").count() == 0  # same config: nothing differs
    page.check("#diff-all")
    page.wait_for_selector("#config-diff tbody tr[data-key=lr]")


def test_grouped_runs_expand_and_chart_the_group(page: Any, dashboard: Dashboard):
    _open(page, dashboard.url(group="group"), "tr.group-row")
    groups = page.eval_on_selector_all(
        "tr.group-row", "(rows) => rows.map((r) => r.dataset.group)")
    assert groups == ["", "ddp-1"]
    page.click("tr.group-row[data-group=ddp-1] .expander")
    wait_for(lambda: sorted(_run_names(page)) == ["ddp-rank0", "ddp-rank1"],
             "the group's members")
    screenshot(page, "runs-grouped")

    page.click("tr.group-row[data-group=ddp-1] .group-chart")
    page.wait_for_selector("section.chart[data-title='train/loss'] canvas",
                           timeout=TIMEOUT_MS)
    legend = page.text_content("section.chart[data-title='train/loss'] .legend")
    assert legend == "ddp-1"
    page.check("#group-members")
    page.wait_for_selector(
        "section.chart[data-title='train/loss'] .legend li[data-run=rank1]")
    screenshot(page, "group-chart")


def test_a_running_run_updates_live(page: Any, dashboard: Dashboard, tmp_path: Path):
    stop = tmp_path / "stop"
    process = dashboard.log([{"id": "live", "name": "live", "config": {"lr": 0.2},
                              "steps": 5, "live_until": str(stop)}])
    try:
        wait_for(lambda: _exists(dashboard, "live"), "the live run to be stored")
        _open(page, dashboard.url("runs", "live"),
              "section.chart[data-title='train/loss'] canvas")
        assert page.locator(".run-head .state-running .dot.live").count() == 1
        first = _last_x(page)
        wait_for(lambda: _last_x(page) >= first + 5, "the chart to grow live", 30)
        screenshot(page, "run-live")
        _open(page, dashboard.url(), "tr[data-run=live] .state-running")
        stop.write_text("")
        page.wait_for_selector("tr[data-run=live] .state-finished", timeout=TIMEOUT_MS)
    finally:
        stop.write_text("")
        process.wait(timeout=60)


def _exists(dashboard: Dashboard, run_id: str) -> bool:
    keys = dashboard.get(f"/api/v1/runs/{dashboard.entity}/{dashboard.project}/"
                         f"{run_id}/keys")
    return "train/loss" in keys["keys"]


def _last_x(page: Any) -> float:
    value = page.get_attribute("section.chart[data-title='train/loss']", "data-last-x")
    return float(value or "-1")


def test_saved_dashboard_reopens_from_its_url(page: Any, dashboard: Dashboard):
    _open(page, dashboard.url("dashboards", "overview"), "#panel-add")
    page.select_option("#panel-kind", "line")
    page.select_option("#panel-metric", "train/loss")
    page.click("#panel-add")
    page.select_option("#panel-kind", "bar")
    page.select_option("#panel-metric", "acc")
    page.click("#panel-add")
    page.fill("#board-title", "Overview")
    page.click("#board-save")
    page.wait_for_selector("#board-status:has-text('saved')")
    page.reload()
    page.wait_for_selector(".board-cell[data-kind=bar] .bar-row", timeout=TIMEOUT_MS)
    assert page.input_value("#board-title") == "Overview"
    page.wait_for_selector(".board-cell[data-kind=line] canvas")
    screenshot(page, "saved-dashboard")


def test_dark_theme_at_a_large_width_and_narrow_laptop(page: Any, dashboard: Dashboard):
    page.set_viewport_size({"width": 2200, "height": 1200})
    _open(page, dashboard.url("runs", "beta"), "section.chart canvas")
    page.click("#theme")
    page.wait_for_selector("html[data-theme=dark] section.chart canvas")
    screenshot(page, "run-dark-wide")
    page.set_viewport_size({"width": 800, "height": 900})
    _open(page, dashboard.url(), "#runs-table")
    screenshot(page, "runs-dark-narrow")


def test_artifacts_and_alerts_pages_render_a_state(page: Any, dashboard: Dashboard):
    _open(page, dashboard.url("artifacts"), ".empty, .artifact-list, div.error")
    screenshot(page, "artifacts")
    _open(page, dashboard.base_url + "/#/alerts", ".alerts-part[data-part=log]")
    assert page.locator(".alerts-part").count() == 4
    screenshot(page, "alerts")


def test_unknown_run_shows_an_error_state(page: Any, dashboard: Dashboard):
    _open(page, dashboard.url("runs", "nope"), "div.error")
    assert "not found" in page.text_content("div.error")



def test_a_path_link_as_notebooks_embed_it_opens_the_run_page(
    page: Any, dashboard: Dashboard
):
    page.goto(f"{dashboard.base_url}/{dashboard.entity}/{dashboard.project}/alpha"
              "?view=charts")
    page.wait_for_selector("section.chart[data-title='train/loss'] canvas",
                           timeout=TIMEOUT_MS)
    assert page.url.endswith(f"/#/{dashboard.entity}/{dashboard.project}/runs/alpha")


def test_bulk_tag_and_delete_are_published_edits(page: Any, dashboard: Dashboard):
    process = dashboard.log([{"id": "doomed", "name": "doomed", "config": {"lr": 1.0},
                              "steps": 3}])
    assert process.wait(timeout=120) == 0
    wait_for(lambda: _exists(dashboard, "doomed"), "the run to delete to be stored")
    _open(page, dashboard.url(filter="config.lr = 1"), "tr[data-run=doomed]")
    page.check("tr[data-run=doomed] td.pick input")
    page.once("dialog", lambda dialog: dialog.accept("picked"))
    page.click("text=Add tag")
    page.wait_for_selector("tr[data-run=doomed] .tag:has-text('picked')",
                           timeout=TIMEOUT_MS)
    assert dashboard.run("doomed")["tags"] == ["picked"]
    page.once("dialog", lambda dialog: dialog.accept())
    page.click(".selection button.danger")
    page.wait_for_selector(".empty:has-text('No runs match')", timeout=TIMEOUT_MS)
    screenshot(page, "runs-after-delete")
