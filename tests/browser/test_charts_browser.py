"""Charts, compare, group charts and saved dashboards in a real Chromium.

The five runs of `browser_support.SPECS` serve compare and groups ("alpha"
logs a NaN at step 150); a project of its own holds a run with more points
than a chart has buckets, with infinities and a NaN at known steps.
"""

from __future__ import annotations

import json
import struct
import uuid
from pathlib import Path
from typing import Any

import pytest
from browser_support import Dashboard, canvas_ink, screenshot, wait_for

TIMEOUT_MS = 30_000
LOSS = "section.chart[data-title='train/loss']"
WAVE = "section.chart[data-title='wave']"
BAD_RGB = (217, 45, 32)  # --bad of the light theme


@pytest.fixture(scope="module")
def charts(dashboard: Dashboard) -> Dashboard:
    """A project with "dense" (5,000 steps, +Inf/-Inf/NaN) and "sparse"."""
    board = Dashboard(dashboard.platform, "charts-" + uuid.uuid4().hex[:6])
    board.run_logger("log_charts.py", board.project, timeout=300)

    def stored() -> bool:
        found = board.get(f"/api/v1/dashboard/series/{board.entity}/{board.project}"
                          "?run=dense&run=sparse&key=wave&buckets=600")
        lengths = sorted(len(s["x"]) for s in found["series"])
        runs = board.get(f"/api/v1/dashboard/runs/{board.entity}/{board.project}"
                         "?filter=state%20%3D%20finished")
        return lengths == [20, 600] and runs["total"] == 2

    wait_for(stored, "both chart runs to be finished and queryable", 120)
    return board


def _open(page: Any, url: str, ready: str) -> None:
    page.goto(url)
    page.wait_for_selector(ready, timeout=TIMEOUT_MS)


def _data(page: Any, chart: str, name: str) -> str:
    return page.get_attribute(chart, "data-" + name) or ""


def _marks(page: Any, chart: str) -> list[dict]:
    return json.loads(_data(page, chart, "marks") or "[]")


def _plot_box(page: Any, chart: str) -> dict:
    """The plot area on screen (scrolled into view: the mouse does not scroll)."""
    page.locator(chart).scroll_into_view_if_needed()
    return page.locator(chart + " .u-over").bounding_box()


def _drag(page: Any, chart: str, start: float, end: float) -> None:
    box = _plot_box(page, chart)
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * start, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * end, y, steps=6)
    page.mouse.up()


def _pixels(page: Any, chart: str, rgb: tuple[int, int, int], faint: bool = False,
            column: float | None = None) -> int:
    """Pixels of the chart's canvas near `rgb`, faint (see-through) or solid.

    `column`, when given, is a left offset in CSS pixels from the plot area:
    only that column (and one each side) is counted.
    """
    return page.eval_on_selector(chart, """(section, [rgb, faint, column]) => {
      const canvas = section.querySelector('canvas');
      const over = section.querySelector('.u-over').getBoundingClientRect();
      const left = over.left - canvas.getBoundingClientRect().left;
      const ratio = canvas.width / canvas.getBoundingClientRect().width;
      const x0 = column === null ? 0 : Math.round((left + column - 1) * ratio);
      const width = column === null ? canvas.width : Math.round(3 * ratio);
      const data = canvas.getContext('2d').getImageData(x0, 0, width,
        canvas.height).data;
      let found = 0;
      for (let i = 0; i < data.length; i += 4) {
        const a = data[i + 3];
        if (faint ? a < 30 || a > 140 : a < 200) { continue; }
        const near = Math.abs(data[i] - rgb[0]) + Math.abs(data[i + 1] - rgb[1]) +
          Math.abs(data[i + 2] - rgb[2]);
        if (near < 60) { found++; }
      }
      return found;
    }""", [list(rgb), faint, column])


def _rgb(css: str) -> tuple[int, int, int]:
    parts = css[css.index("(") + 1:css.index(")")].split(",")
    return int(parts[0]), int(parts[1]), int(parts[2])


def _legend_colours(page: Any, chart: str) -> dict[str, str]:
    return page.eval_on_selector_all(
        chart + " .legend li",
        "(items) => Object.fromEntries(items.map((i) => [i.dataset.run, "
        "i.querySelector('i').style.background]))")


# ---- one run's charts -------------------------------------------------------------


def test_x_axis_is_step_runtime_timestamp_or_any_metric_and_reloads(
    page: Any, dashboard: Dashboard
):
    _open(page, dashboard.url("runs", "alpha"), LOSS + " canvas")
    options = page.eval_on_selector_all("#x-axis option",
                                        "(os) => os.map((o) => o.value)")
    assert options == ["_step", "_runtime", "_timestamp", "lr", "train/acc",
                       "train/loss", "val/loss"]

    for axis in ("_runtime", "_timestamp"):
        page.select_option("#x-axis", axis)
        wait_for(lambda a=axis: f"x={a}" in page.url, f"x={axis} in the URL")
        page.wait_for_selector(LOSS + " canvas", timeout=TIMEOUT_MS)
        wait_for(lambda: _data(page, LOSS, "points") == "300", f"300 points on {axis}")

    page.select_option("#x-axis", "train/acc")
    wait_for(lambda: "x=train%2Facc" in page.url, "the metric axis in the URL")
    wait_for(lambda: page.locator("section.chart[data-title='train/acc']").count() == 0,
             "no chart of the x metric against itself")
    wait_for(lambda: int(_data(page, LOSS, "points") or 0) == 299,
             "every finite row of train/loss against train/acc")
    page.reload()
    page.wait_for_selector(LOSS + " canvas", timeout=TIMEOUT_MS)
    assert page.input_value("#x-axis") == "train/acc"
    assert canvas_ink(page, LOSS) > 500
    screenshot(page, "charts-x-metric")


def test_smoothing_draws_the_average_over_a_faint_raw_line(
    page: Any, dashboard: Dashboard
):
    _open(page, dashboard.url("runs", "beta"), LOSS + " canvas")
    colour = _rgb(_legend_colours(page, LOSS)["beta"])
    faint_before = _pixels(page, LOSS, colour, faint=True)

    page.fill("#smoothing", "0.9")
    page.dispatch_event("#smoothing", "input")

    assert "smooth=0.9" in page.url
    assert page.text_content("output[for=smoothing]") == "0.90"
    wait_for(lambda: _pixels(page, LOSS, colour, faint=True) > faint_before + 100,
             "the raw line drawn faint under the smoothed one")
    assert _pixels(page, LOSS, colour) > 200  # the smoothed line, solid
    page.reload()
    page.wait_for_selector(LOSS + " canvas", timeout=TIMEOUT_MS)
    assert page.input_value("#smoothing") == "0.9"
    screenshot(page, "charts-smoothed")


def test_log_scale_is_a_url_setting_that_keeps_the_line(
    page: Any, dashboard: Dashboard
):
    _open(page, dashboard.url("runs", "gamma"), LOSS + " canvas")
    page.check("#log-scale")
    wait_for(lambda: "log=1" in page.url, "log=1 in the URL")
    page.reload()
    page.wait_for_selector(LOSS + " canvas", timeout=TIMEOUT_MS)
    assert page.is_checked("#log-scale")
    assert canvas_ink(page, LOSS) > 500
    screenshot(page, "charts-log-scale")


def test_nan_is_a_gap_with_a_red_mark_and_named_in_the_tooltip(
    page: Any, dashboard: Dashboard
):
    _open(page, dashboard.url("runs", "alpha"), LOSS + " canvas")
    wait_for(lambda: _marks(page, LOSS), "the NaN mark")
    marks = _marks(page, LOSS)
    assert [(m["x"], m["mark"]) for m in marks] == [(150, "NaN")]
    assert _pixels(page, LOSS, BAD_RGB, column=marks[0]["left"]) > 10
    assert _pixels(page, LOSS, BAD_RGB, column=marks[0]["left"] - 40) == 0

    box = _plot_box(page, LOSS)
    page.mouse.move(box["x"] + marks[0]["left"], box["y"] + 20)
    page.wait_for_selector(LOSS + " .tooltip:visible")
    assert page.text_content(LOSS + " .tooltip") == "_step 150alpha: NaN"
    screenshot(page, "charts-nan-mark")


def test_infinities_are_marked_at_the_edge_they_went_to(page: Any, charts: Dashboard):
    _open(page, charts.url("runs", "dense"), WAVE + " canvas")
    wait_for(lambda: len(_marks(page, WAVE)) == 3, "three marked buckets")
    names = [m["mark"] for m in _marks(page, WAVE)]
    assert names == ["+Inf", "-Inf", "NaN"]

    _drag(page, WAVE, 0.19, 0.21)  # around step 1000
    wait_for(lambda: _data(page, WAVE, "sampled") == "0", "raw points")
    marks = _marks(page, WAVE)
    assert [(m["x"], m["mark"]) for m in marks] == [(1000, "+Inf")]
    assert _pixels(page, WAVE, BAD_RGB, column=marks[0]["left"]) > 10
    screenshot(page, "charts-infinity-mark")


def test_zoom_fetches_finer_buckets_down_to_raw_points_and_resets(
    page: Any, charts: Dashboard
):
    _open(page, charts.url("runs", "dense"), WAVE + " canvas")
    wait_for(lambda: _data(page, WAVE, "points") == "600", "600 buckets")
    assert _data(page, WAVE, "sampled") == "1"
    assert int(_data(page, WAVE, "bands")) == 1  # min-max band where bucketed
    assert "min–max band" in page.text_content(WAVE + " .chart-note")

    with page.expect_request(lambda r: "/dashboard/series/" in r.url and "lo=" in r.url
                             and "hi=" in r.url) as asked:
        _drag(page, WAVE, 0.45, 0.55)
    query = asked.value.url
    lo = float(query.split("lo=")[1].split("&")[0])
    hi = float(query.split("hi=")[1].split("&")[0])
    assert 2000 < lo < hi < 3000
    wait_for(lambda: _data(page, WAVE, "sampled") == "0", "raw points after zoom")
    after = int(_data(page, WAVE, "visible"))
    first = charts.get(f"/api/v1/dashboard/series/{charts.entity}/{charts.project}"
                       "?run=dense&key=wave&buckets=600")["series"][0]["x"]
    before = sum(1 for x in first if lo <= x <= hi)  # what the range showed
    assert after > 5 * before
    assert after == int(_data(page, WAVE, "points"))
    assert _data(page, WAVE, "bands") == "0"
    screenshot(page, "charts-zoomed-raw")

    page.click(WAVE + " [data-action=reset]")
    wait_for(lambda: _data(page, WAVE, "sampled") == "1", "buckets again after reset")
    assert page.locator(WAVE + ".zoomed").count() == 0


def test_full_screen_opens_larger_and_escape_closes_it(page: Any, dashboard: Dashboard):
    _open(page, dashboard.url("runs", "alpha"), LOSS + " canvas")
    small = page.locator(LOSS + " canvas").bounding_box()["height"]
    page.click(LOSS + " [data-action=full]")
    page.wait_for_selector(LOSS + ".full canvas")
    assert page.locator(LOSS + " canvas").bounding_box()["height"] > small * 2
    screenshot(page, "charts-full-screen")
    page.keyboard.press("Escape")
    page.wait_for_selector(LOSS + ":not(.full)")


def test_csv_has_the_nan_and_png_has_title_and_legend(
    page: Any, dashboard: Dashboard
):
    _open(page, dashboard.url("runs", "alpha"), LOSS + " canvas")
    with page.expect_download() as csv:
        page.click(LOSS + " [data-action=csv]")
    lines = Path(csv.value.path()).read_text().splitlines()
    assert lines[0] == "_step,alpha,alpha (min),alpha (max)"
    assert len(lines) == 301
    assert lines[151].startswith("150,NaN,")

    canvas = page.eval_on_selector(LOSS + " canvas", "(c) => [c.width, c.height]")
    with page.expect_download() as png:
        page.click(LOSS + " [data-action=png]")
    data = Path(png.value.path()).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert width == canvas[0]
    assert height > canvas[1]  # a title above and a legend below


# ---- compare ----------------------------------------------------------------------


def test_compare_tooltip_lists_every_run_at_the_hovered_step(
    page: Any, dashboard: Dashboard
):
    _open(page, dashboard.url("compare", runs="alpha,beta,gamma"), LOSS + " canvas")
    box = _plot_box(page, LOSS)
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + 20)
    page.wait_for_selector(LOSS + " .tooltip:visible")
    rows = page.eval_on_selector_all(LOSS + " .tooltip div:not(.muted)",
                                     "(rows) => rows.map((r) => r.textContent)")
    assert [row.split(":")[0] for row in rows] == ["alpha", "beta", "gamma"]
    assert all(float(row.split(": ")[1]) > 0 for row in rows)
    assert page.text_content(LOSS + " .tooltip .muted").startswith("_step ")
    screenshot(page, "compare-tooltip")


def test_each_run_keeps_one_distinct_colour_across_views_and_reloads(
    page: Any, dashboard: Dashboard
):
    runs = "alpha,beta,gamma,rank0,rank1"
    _open(page, dashboard.url("compare", runs=runs), LOSS + " canvas")
    colours = _legend_colours(page, LOSS)
    assert sorted(colours) == sorted(runs.split(","))
    assert len(set(colours.values())) == 5
    chips = page.eval_on_selector_all(
        ".run-chips li", "(items) => Object.fromEntries(items.map((i) => "
        "[i.dataset.run, i.querySelector('i').style.background]))")
    assert chips == colours
    assert _legend_colours(page, "section.chart[data-title='val/loss']") == colours

    page.goto(dashboard.url("compare", runs="gamma,rank1,alpha,beta,rank0"))
    page.reload()
    page.wait_for_selector(LOSS + " canvas", timeout=TIMEOUT_MS)
    assert _legend_colours(page, LOSS) == colours
    _open(page, dashboard.url("runs", "alpha"), LOSS + " canvas")
    assert _legend_colours(page, LOSS)["alpha"] == colours["alpha"]


def test_legend_click_takes_the_line_off_the_canvas(page: Any, dashboard: Dashboard):
    _open(page, dashboard.url("compare", runs="alpha,beta"), LOSS + " canvas")
    beta = _rgb(_legend_colours(page, LOSS)["beta"])
    assert _pixels(page, LOSS, beta) > 200

    page.click(LOSS + " .legend li[data-run=beta]")

    page.wait_for_selector(LOSS + " .legend li.off[data-run=beta]")
    wait_for(lambda: _pixels(page, LOSS, beta) == 0, "beta's line gone")
    page.click(LOSS + " .legend li[data-run=beta]")
    wait_for(lambda: _pixels(page, LOSS, beta) > 200, "beta's line back")


def test_config_diff_shows_differing_keys_or_all_and_reloads(
    page: Any, dashboard: Dashboard
):
    _open(page, dashboard.url("compare", runs="alpha,gamma"), "#config-diff")
    keys = page.eval_on_selector_all("#config-diff tbody tr",
                                     "(rows) => rows.map((r) => r.dataset.key)")
    assert keys == ["batch", "lr"]  # optimizer is adam in both
    page.check("#diff-all")
    wait_for(lambda: page.locator("#config-diff tbody tr").count() == 3,
             "every key")
    assert "all=1" in page.url
    page.reload()
    page.wait_for_selector("#config-diff tbody tr[data-key=optimizer]",
                           timeout=TIMEOUT_MS)
    assert page.get_attribute("#config-diff tr[data-key=optimizer]", "class") == ""
    assert page.get_attribute("#config-diff tr[data-key=lr]", "class") == "differs"
    screenshot(page, "compare-diff-all")


# ---- groups -----------------------------------------------------------------------


def test_group_chart_is_a_mean_with_a_band_or_every_member(
    page: Any, dashboard: Dashboard
):
    _open(page, dashboard.url("compare", group="group:ddp-1"), LOSS + " canvas")
    assert page.text_content(LOSS + " .legend") == "ddp-1"
    assert page.text_content(LOSS + " .chart-note") == "mean of 2, min–max band"
    assert _data(page, LOSS, "bands") == "1"
    screenshot(page, "group-mean")

    page.check("#group-members")
    page.wait_for_selector(LOSS + " .legend li[data-run=rank1]", timeout=TIMEOUT_MS)
    assert "members=1" in page.url
    page.reload()
    page.wait_for_selector(LOSS + " .legend li[data-run=rank0]", timeout=TIMEOUT_MS)
    assert page.is_checked("#group-members")
    assert page.text_content(LOSS + " .legend") == "ddp-rank0ddp-rank1"
    assert _data(page, LOSS, "bands") == "0"
    screenshot(page, "group-members")


# ---- saved dashboards -------------------------------------------------------------


def _add_panel(page: Any, kind: str, *metrics: str) -> None:
    page.select_option("#panel-kind", kind)
    page.select_option("#panel-metric", list(metrics))
    page.click("#panel-add")


def _kinds(page: Any) -> list[str]:
    return page.eval_on_selector_all(".board-cell",
                                     "(cells) => cells.map((c) => c.dataset.kind)")


def test_dashboard_of_every_panel_kind_is_laid_out_saved_and_shared(
    page: Any, charts: Dashboard
):
    _open(page, charts.url("dashboards", "kinds"), "#panel-add")
    _add_panel(page, "line", "wave")
    _add_panel(page, "bar", "acc")
    _add_panel(page, "scalar", "acc")
    _add_panel(page, "table", "acc", "wave")
    _add_panel(page, "media", "preview")
    wait_for(lambda: _kinds(page) == ["line", "bar", "scalar", "table", "media"],
             "a panel of each kind")

    page.click(".board-cell[data-kind=media] [data-action=earlier]")
    wait_for(lambda: _kinds(page) == ["line", "bar", "scalar", "media", "table"],
             "the media panel moved earlier")
    page.click(".board-cell[data-kind=bar] [data-action=wider]")
    page.wait_for_selector(".board-cell[data-kind=bar][data-w='2']")
    page.click(".board-cell[data-kind=line] [data-action=taller]")
    page.wait_for_selector(".board-cell[data-kind=line][data-h='2']")
    page.fill("#board-title", "Every kind")
    assert page.text_content("#board-status") == "unsaved changes"
    page.click("#board-save")
    page.wait_for_selector("#board-status:has-text('saved')")

    page.goto(charts.url("dashboards", "kinds"))
    page.reload()
    page.wait_for_selector(".board-cell[data-kind=media] img", timeout=TIMEOUT_MS)
    assert page.input_value("#board-title") == "Every kind"
    assert _kinds(page) == ["line", "bar", "scalar", "media", "table"]
    assert page.get_attribute(".board-cell[data-kind=bar]", "data-w") == "2"
    assert page.get_attribute(".board-cell[data-kind=line]", "data-h") == "2"
    line = ".board-cell[data-kind=line]"
    page.wait_for_selector(line + " canvas", timeout=TIMEOUT_MS)
    assert canvas_ink(page, line) > 500
    assert page.locator(line + " .legend li").count() == 2
    bar = page.locator(".board-cell[data-kind=bar]").bounding_box()["width"]
    scalar = page.locator(".board-cell[data-kind=scalar]").bounding_box()["width"]
    assert bar > scalar * 1.8
    assert page.text_content(".board-cell[data-kind=bar] .bar-row[data-run=dense]"
                             " .bar-value") == "0.75"
    assert page.text_content(".board-cell[data-kind=scalar] .scalar") in ("0.75", "0.5")
    table = page.eval_on_selector_all(
        ".board-cell[data-kind=table] thead th", "(hs) => hs.map((h) => h.textContent)")
    assert table == ["run", "wave", "acc"]  # in the chooser's order
    assert page.locator(".board-cell[data-kind=table] tbody tr").count() == 2
    assert page.locator(".board-cell[data-kind=media] figure img").count() == 2
    screenshot(page, "saved-dashboard-kinds")

    _open(page, charts.url("dashboards"), "ul.dashboards")
    listed = page.text_content("ul.dashboards a[href$='/dashboards/kinds']")
    assert listed == "Every kind"


def test_dashboard_runs_filter_narrows_every_panel_and_reports_bad_filters(
    page: Any, charts: Dashboard
):
    _open(page, charts.url("dashboards", "filtered"), "#panel-add")
    _add_panel(page, "bar", "acc")
    page.wait_for_selector(".bar-row[data-run=sparse]")
    assert page.text_content("#board-runs") == "2 runs"

    page.fill("#board-filter", "config.lr > 0.05")
    page.press("#board-filter", "Enter")
    wait_for(lambda: page.locator(".bar-row").count() == 1, "one run left")
    assert page.text_content(".bar-row .bar-label") == "dense"
    assert page.text_content("#board-runs") == "1 run"

    page.fill("#board-filter", "config.lr >")
    page.press("#board-filter", "Enter")
    page.wait_for_selector(".board div.error", timeout=TIMEOUT_MS)
    assert "no value after" in page.text_content(".board div.error")
    screenshot(page, "saved-dashboard-bad-filter")
