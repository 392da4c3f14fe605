"""Media panels of the run page in a real Chromium, from a real training run."""

from __future__ import annotations

import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest
from browser_support import HERE, Dashboard, screenshot, wait_for

TIMEOUT_MS = 30_000
RUN = "media"


@pytest.fixture(scope="module")
def board(dashboard: Dashboard) -> Dashboard:
    """A project of its own, so the runs table tests keep their five runs."""
    return Dashboard(dashboard.platform, "media-" + uuid.uuid4().hex[:6])


@pytest.fixture(scope="module")
def media_run(board: Dashboard) -> str:
    """A finished run with images, histograms, audio and a table."""
    dashboard = board
    done = subprocess.run(
        [sys.executable, str(HERE / "log_media.py"), dashboard.project, RUN],
        env=dashboard.platform.env, cwd=dashboard.platform.data_dir.parent,
        capture_output=True, timeout=180, check=False,
    )
    assert done.returncode == 0, (done.stdout + done.stderr).decode(errors="replace")
    base = f"/api/v1/runs/{dashboard.entity}/{dashboard.project}/{RUN}"

    seen: dict[str, Any] = {}

    def stored() -> bool:
        files = dashboard.get(base + "/files")["files"]
        seen["files"] = sorted(f["path"] for f in files
                               if f["path"].startswith("media/"))
        seen["tables"] = dashboard.get(base + "/tables")["tables"]
        # Equal content is stored once: the tone and the mask are one file each.
        return len(seen["files"]) == 5 and bool(seen["tables"])

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
    assert page.locator("section[data-key=samples] .box-layer .box").count() == 1
    assert page.locator("section[data-key=samples] canvas.mask-layer").count() == 1

    assert page.locator("section[data-key=weights] canvas.heatmap").count() == 1
    page.wait_for_function(
        "() => { const a = document.querySelector('section[data-key=tone] audio');"
        " return a && a.readyState >= 1 && a.duration > 0.9; }", timeout=TIMEOUT_MS)

    table = "section[data-key=predictions] .table-viewer"
    page.wait_for_selector(f"{table} .table-status:text-is('1–25 of 60 rows')",
                           timeout=TIMEOUT_MS)
    page.click(f"{table} .table-next")
    page.wait_for_selector(f"{table} .table-status:text-is('26–50 of 60 rows')")
    assert page.text_content(f"{table} tbody tr td") == "25"
    page.click(f"{table} th[data-col=score]")  # ascending, back to the first page
    page.click(f"{table} th[data-col=score]")  # descending
    page.wait_for_selector(f"{table} th[data-col=score]:has-text('▼')")
    wait_for(lambda: page.text_content(f"{table} tbody tr td") == "59",
             "the table sorted by score, descending")
    screenshot(page, "media")
