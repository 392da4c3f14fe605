"""Media panels of the run page in a real Chromium, from a real training run.

The run (logged by ``log_media.py``) holds images with masks and boxes, a
histogram over twelve steps, audio, a webm clip, HTML, a 70,000-point cloud,
PR and ROC curves, a confusion matrix and a table with an image column.
"""

from __future__ import annotations

import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest
from browser_support import Dashboard, screenshot, wait_for

TIMEOUT_MS = 30_000
RUN = "media"
MEDIA_FILES = 12  # equal content is stored once: 3 samples, mask, tone, 3 thumbs,
# the cloud, the scene, the clip and the page
TABLES = 4  # predictions and the tables of the PR, ROC and confusion charts
CLASSES = ["cat", "dog", "bird"]
PIXELS = """(canvas) => {
  const data = canvas.getContext('2d').getImageData(
    0, 0, canvas.width, canvas.height).data;
  let ink = 0, sum = 0;
  for (let i = 3; i < data.length; i += 4) {
    if (data[i] > 0) {
      ink++;
      sum = (sum * 31 + data[i - 3] + data[i - 1] * 7 + i) % 1e9;
    }
  }
  return [ink, sum];
}"""


@pytest.fixture(scope="module")
def board(dashboard: Dashboard) -> Dashboard:
    """A project of its own, so the runs table tests keep their five runs."""
    return Dashboard(dashboard.platform, "media-" + uuid.uuid4().hex[:6])


@pytest.fixture(scope="module")
def media_run(board: Dashboard) -> str:
    """A finished run with every kind of media the tab shows."""
    dashboard = board
    dashboard.run_logger("log_media.py", dashboard.project, RUN)
    base = f"/api/v1/runs/{dashboard.entity}/{dashboard.project}/{RUN}"

    seen: dict[str, Any] = {}

    def stored() -> bool:
        files = dashboard.get(base + "/files")["files"]
        seen["files"] = sorted(f["path"] for f in files
                               if f["path"].startswith("media/"))
        seen["tables"] = dashboard.get(base + "/tables")["tables"]
        return (len(seen["files"]) == MEDIA_FILES
                and len(seen["tables"]) == TABLES)

    try:
        wait_for(stored, "the media files and the table to be queryable")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; last seen: {seen}") from None
    return RUN


def _fetch(dashboard: Dashboard, path: str) -> tuple[int, bytes, str]:
    request = urllib.request.Request(
        dashboard.base_url + path,
        headers={"Authorization": f"Bearer {dashboard.api_key}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read(), answer.headers["content-type"]
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers.get("content-type", "")


def test_file_route_streams_a_logged_image_and_refuses_odd_names(
    board: Dashboard, media_run: str
):
    dashboard = board
    base = f"/api/v1/runs/{dashboard.entity}/{dashboard.project}/{media_run}"
    image = next(f for f in dashboard.get(base + "/files")["files"]
                 if f["path"].startswith("media/images/samples_"))
    route = f"/api/v1/dashboard/file/{dashboard.entity}/{dashboard.project}/{media_run}"

    status, body, kind = _fetch(dashboard, route + "?path=" + image["path"])
    assert (status, kind, len(body)) == (200, "image/png", image["size"])
    assert body[:8] == b"\x89PNG\r\n\x1a\n"
    assert _fetch(dashboard, route + "?path=media/none.png")[0] == 404
    assert _fetch(dashboard, route + "?path=../etc/passwd")[0] == 422


def test_media_tab_renders_image_histogram_audio_and_a_paged_table(
    page: Any, board: Dashboard, media_run: str
):
    dashboard = board
    page.goto(dashboard.url(media_run, tab="media"))
    image = "section[data-key=samples] img.media-image"
    page.wait_for_function(
        f"() => {{ const i = document.querySelector('{image}');"
        " return i && i.complete && i.naturalWidth > 0; }", timeout=TIMEOUT_MS)
    assert page.eval_on_selector(image, "(i) => i.naturalWidth") == 48
    assert page.text_content("section[data-key=samples] figcaption") == "sample 2"
    page.fill("section[data-key=samples] input[type=range]", "0")
    page.wait_for_selector("section[data-key=samples] figcaption:text-is('sample 0')")
    assert page.locator("section[data-key=samples] .box-layer .box").count() == 2
    assert page.locator("section[data-key=samples] canvas.mask-layer").count() == 1

    weights = "section[data-key=weights] canvas.histogram-canvas"
    assert page.locator(weights).count() == 1
    page.wait_for_function(
        "() => { const a = document.querySelector('section[data-key=tone] audio');"
        " return a && a.readyState >= 1 && a.duration > 0.9; }", timeout=TIMEOUT_MS)

    table = "section[data-key=predictions] .table-viewer"
    page.wait_for_selector(f"{table} .table-status:text-is('1–25 of 60 rows')",
                           timeout=TIMEOUT_MS)
    _settled(page)
    _click(page, f"{table} .table-next")
    page.wait_for_selector(f"{table} .table-status:text-is('26–50 of 60 rows')")
    assert page.text_content(f"{table} tbody tr td") == "25"
    _click(page, f"{table} th[data-col=score]")  # ascending, back to the first page
    page.wait_for_selector(f"{table} th[data-col=score]:has-text('▲')")
    _click(page, f"{table} th[data-col=score]")  # descending
    page.wait_for_selector(f"{table} th[data-col=score]:has-text('▼')")
    wait_for(lambda: page.text_content(f"{table} tbody tr td") == "59",
             "the table sorted by score, descending")
    screenshot(page, "media")


def _open(page: Any, dashboard: Dashboard, run: str, **params: str) -> None:
    page.goto(dashboard.url(run, tab="media", **params))
    page.wait_for_selector(".media-grid", timeout=TIMEOUT_MS)


def test_panels_without_a_caption_show_none(
    page: Any, board: Dashboard, media_run: str
):
    page.goto(board.url(media_run, tab="media"))
    page.wait_for_selector(".media-grid", timeout=TIMEOUT_MS)
    _settled(page)
    stray = page.evaluate("""() => [...document.querySelectorAll('.media-grid *')]
      .filter((n) => [...n.childNodes].some((c) => c.nodeType === 3
        && ['null', 'undefined'].includes(c.textContent.trim())))
      .map((n) => n.closest('section[data-key]').dataset.key)""")
    assert stray == []


def _settled(page: Any) -> None:
    """Wait until the panels that load on their own have drawn, so that
    nothing moves under a click."""
    for canvas in ("cloud", "pr", "roc"):
        _drawn(page, f"section[data-key={canvas}] canvas")
    page.wait_for_selector("section[data-key=confusion] table.confusion",
                           timeout=TIMEOUT_MS)


def _click(page: Any, selector: str) -> None:
    """Scroll to the element, then click it.

    Chromium may route a click that follows its own scroll to the sandboxed
    HTML frame that was under the pointer before the scroll.
    """
    page.locator(selector).scroll_into_view_if_needed()
    page.evaluate("() => new Promise((done) => requestAnimationFrame(done))")
    page.click(selector)


def _pixels(page: Any, selector: str) -> tuple[int, int]:
    return tuple(page.eval_on_selector(selector, PIXELS))


def _drawn(page: Any, selector: str) -> tuple[int, int]:
    """Pixels drawn on the canvas `selector`, once it has any, and their digest."""
    page.wait_for_selector(selector, timeout=TIMEOUT_MS)
    wait_for(lambda: _pixels(page, selector)[0] > 0, f"{selector} drawn")
    return _pixels(page, selector)


def _changed(page: Any, selector: str, before: tuple[int, int]) -> tuple[int, int]:
    """The canvas's pixels once they differ from `before`."""
    wait_for(lambda: _pixels(page, selector) != before, f"{selector} redrawn")
    return _drawn(page, selector)


def test_histogram_switches_to_a_ridge_view_that_the_url_keeps(
    page: Any, board: Dashboard, media_run: str
):
    _open(page, board, media_run)
    canvas = "section[data-key=weights] canvas.histogram-canvas"
    heatmap = _drawn(page, canvas)
    assert "12 steps (0–11)" in page.text_content(
        "section[data-key=weights] figcaption")
    page.click("section[data-key=weights] button.view-ridge")
    page.wait_for_selector(canvas + "[data-view=ridge]")
    ridge = _changed(page, canvas, heatmap)
    assert "hist=ridge" in page.url
    screenshot(page, "media-ridge")

    page.reload()
    page.wait_for_selector(canvas + "[data-view=ridge]", timeout=TIMEOUT_MS)
    assert page.get_attribute("section[data-key=weights] button.view-ridge",
                              "aria-pressed") == "true"
    assert _drawn(page, canvas) == ridge


def test_point_cloud_is_thinned_drawn_and_turns_when_dragged(
    page: Any, board: Dashboard, media_run: str
):
    _open(page, board, media_run)
    canvas = "section[data-key=cloud] canvas.cloud-canvas"
    first = _drawn(page, canvas)
    assert page.text_content("section[data-key=cloud] .cloud-count") == (
        "showing 60,000 of 70,000 points (thinned for drawing)")
    box = page.locator(canvas).bounding_box()
    middle = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.move(*middle)
    page.mouse.down()
    page.mouse.move(middle[0] + 80, middle[1] + 30, steps=5)
    page.mouse.up()
    turned = _changed(page, canvas, first)
    page.mouse.wheel(0, -400)
    _changed(page, canvas, turned)
    screenshot(page, "media-point-cloud")
    page.click("section[data-key=cloud] button.cloud-reset")
    assert _drawn(page, canvas) == first


def test_pr_and_roc_curves_draw_one_line_per_class_with_a_legend(
    page: Any, board: Dashboard, media_run: str
):
    _open(page, board, media_run)
    for key in ("pr", "roc"):
        canvas = f"section[data-key={key}] canvas.curve-canvas"
        drawn = _drawn(page, canvas)
        legend = page.locator(f"section[data-key={key}] .legend-item")
        names = [text.split(" (AUC")[0] for text in legend.all_text_contents()]
        assert names == CLASSES
        page.click(f"section[data-key={key}] .legend-item[data-series=dog]")
        assert page.get_attribute(f"section[data-key={key}] .legend-item"
                                  "[data-series=dog]", "aria-pressed") == "false"
        assert _changed(page, canvas, drawn)[0] < drawn[0]
    assert page.text_content("section[data-key=roc] figcaption") == "ROC"
    page.locator("section[data-key=pr]").scroll_into_view_if_needed()
    screenshot(page, "media-curves")


def test_confusion_matrix_shows_every_count_with_class_labels(
    page: Any, board: Dashboard, media_run: str
):
    _open(page, board, media_run)
    matrix = "section[data-key=confusion] table.confusion"
    page.wait_for_selector(matrix, timeout=TIMEOUT_MS)
    assert page.locator(f"{matrix} th.predicted").all_text_contents() == CLASSES
    assert page.locator(f"{matrix} th.actual").all_text_contents() == CLASSES
    rows = [[int(text) for text in page.locator(f"{matrix} tbody tr").nth(i)
             .locator("td").all_text_contents()] for i in range(len(CLASSES))]
    # 300 samples, 100 of each class: every row adds up to 100.
    assert [sum(row) for row in rows] == [100, 100, 100]
    assert all(row[i] == max(row) for i, row in enumerate(rows))
    page.locator(matrix).scroll_into_view_if_needed()
    screenshot(page, "media-confusion")


def test_video_plays_and_html_sits_in_a_sandboxed_frame(
    page: Any, board: Dashboard, media_run: str
):
    _open(page, board, media_run)
    page.wait_for_function(
        "() => { const v = document.querySelector('section[data-key=clip] video');"
        " return v && v.readyState >= 1 && v.duration > 1.9; }", timeout=TIMEOUT_MS)
    assert page.text_content("section[data-key=clip] figcaption") == "sweep"
    frame = "section[data-key=page] iframe.media-html"
    page.wait_for_selector(frame, timeout=TIMEOUT_MS)
    assert page.get_attribute(frame, "sandbox") == ""
    inner = page.frame_locator(frame).locator("h1")
    inner.wait_for(timeout=TIMEOUT_MS)
    assert inner.text_content() == "report"
    page.locator(frame).scroll_into_view_if_needed()
    screenshot(page, "media-video-html")


def test_mask_toggle_and_opacity_and_box_filters_change_the_image_layers(
    page: Any, board: Dashboard, media_run: str
):
    _open(page, board, media_run)
    card = "section[data-key=samples]"
    mask = f"{card} canvas.mask-layer"
    page.wait_for_selector(mask, timeout=TIMEOUT_MS)
    page.uncheck(f"{card} .layer-controls label:has-text('truth') input")
    assert page.eval_on_selector(mask, "(c) => c.hidden") is True
    page.check(f"{card} .layer-controls label:has-text('truth') input")
    assert page.eval_on_selector(mask, "(c) => c.hidden") is False
    page.fill(f"{card} input[aria-label='truth opacity']", "0.8")
    assert page.eval_on_selector(mask, "(c) => c.style.opacity") == "0.8"

    boxes = page.locator(f"{card} .box-layer .box")
    assert boxes.count() == 2
    page.uncheck(f"{card} .layer-controls label:has-text('corner') input")
    assert boxes.all_text_contents() == ["square"]
    page.check(f"{card} .layer-controls label:has-text('corner') input")
    assert boxes.count() == 2
    page.fill(f"{card} input[aria-label='minimum score']", "0.5")
    assert boxes.all_text_contents() == ["square"]
    screenshot(page, "media-image-layers")


def test_table_filters_on_the_server_shows_thumbnails_and_reloads_the_same(
    page: Any, board: Dashboard, media_run: str
):
    _open(page, board, media_run)
    table = "section[data-key=predictions] .table-viewer"
    page.wait_for_selector(f"{table} .table-status:text-is('1–25 of 60 rows')",
                           timeout=TIMEOUT_MS)
    page.wait_for_function(
        f"() => {{ const i = document.querySelector('{table} img.media-thumb');"
        " return i && i.complete && i.naturalWidth === 16; }", timeout=TIMEOUT_MS)
    _settled(page)
    page.select_option(f"{table} select.filter-column", "label")
    page.select_option(f"{table} select.filter-op", "contains")
    page.fill(f"{table} input.filter-value", "row-1")
    _click(page, f"{table} form.table-filter button[type=submit]")
    page.wait_for_selector(f"{table} .table-status:text-is('1–11 of 11 rows')")
    _click(page, f"{table} th[data-col=score]")
    page.wait_for_selector(f"{table} th[data-col=score]:has-text('▲')")
    _click(page, f"{table} th[data-col=score]")
    page.wait_for_selector(f"{table} th[data-col=score]:has-text('▼')")
    wait_for(lambda: page.text_content(f"{table} tbody tr td") == "19",
             "the filtered rows sorted by score, descending")
    assert page.text_content(f"{table} .filter-chips .chip") == (
        'label contains "row-1"×')
    screenshot(page, "media-table")

    page.reload()
    page.wait_for_selector(f"{table} .table-status:text-is('1–11 of 11 rows')",
                           timeout=TIMEOUT_MS)
    assert page.text_content(f"{table} tbody tr td") == "19"
    _click(page, f"{table} .filter-chips .chip button")
    page.wait_for_selector(f"{table} .table-status:text-is('1–25 of 60 rows')")
    assert page.text_content(f"{table} tbody tr td") == "59"


def test_point_cloud_draws_stored_boxes_and_vectors_in_the_dark_theme(
    page: Any, board: Dashboard, media_run: str
):
    """Boxes and vectors of a logged scene are drawn in their own colours."""
    page.add_init_script("if (window.top === window) "
                         "{ localStorage.setItem('lodestar.theme', 'dark'); }")
    _open(page, board, media_run)
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    canvas = "section[data-key=scene] canvas.cloud-canvas"
    _drawn(page, canvas)
    reds, greens = page.eval_on_selector(canvas, """(canvas) => {
      const d = canvas.getContext('2d').getImageData(
        0, 0, canvas.width, canvas.height).data;
      let reds = 0, greens = 0;
      for (let i = 0; i < d.length; i += 4) {
        if (d[i] > 200 && d[i + 1] < 60 && d[i + 2] < 60) { reds++; }
        if (d[i + 1] > 200 && d[i] < 60 && d[i + 2] < 60) { greens++; }
      }
      return [reds, greens];
    }""")
    assert reds > 100 and greens > 20
    assert page.text_content("section[data-key=scene] .cloud-count") == (
        "1 point, 1 box")
    page.locator("section[data-key=scene]").scroll_into_view_if_needed()
    screenshot(page, "media-dark")
