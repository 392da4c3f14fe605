"""A real headless Chromium against the local platform, with real logged runs.

The browser is the machine's ``chromium`` (Debian's package, which
``make test`` installs where it can), else Playwright's own download; the
tests skip, saying why, when neither is there. Each view's screenshot is
kept under ``test-artifacts/`` at the repository root.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from browser_support import SPECS, Dashboard, wait_for

LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def chromium_path() -> str | None:
    """The machine's Chromium, or None to use Playwright's own browser."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


# Module scope: Playwright's sync API keeps an event loop running in this
# thread while it is open, which would break asyncio.run() in later modules.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(
                executable_path=chromium_path(), args=LAUNCH_ARGS, headless=True
            )
        except sync_api.Error as exc:
            pytest.skip(f"no Chromium to drive: install Debian's 'chromium' or run "
                        f"'playwright install chromium' ({exc})")
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def dashboard(local_platform: Any) -> Dashboard:
    """Five finished runs (three plain, two of one group) in a fresh project."""
    board = Dashboard(local_platform, "dash-" + uuid.uuid4().hex[:6])
    process = board.log([dict(spec) for spec in SPECS])
    output, _ = process.communicate(timeout=180)
    assert process.returncode == 0, output.decode(errors="replace")

    def all_stored() -> bool:
        page = board.get(f"/api/v1/dashboard/runs/{board.entity}/{board.project}"
                         "?filter=state%20%3D%20finished")
        if page["total"] != len(SPECS):
            return False
        keys = board.get(f"/api/v1/runs/{board.entity}/{board.project}/rank1/keys")
        return "val/loss" in keys["keys"]

    wait_for(all_stored, "every logged run to be finished and queryable")
    return board


@pytest.fixture()
def page(browser: Any, dashboard: Dashboard) -> Iterator[Any]:
    """A signed-in page at a laptop's width."""
    context = browser.new_context(viewport={"width": 1440, "height": 900},
                                  base_url=dashboard.base_url)
    context.add_cookies([{"name": "lodestar_key", "value": dashboard.api_key,
                          "url": dashboard.base_url}])
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    yield opened
    context.close()
    assert not errors, f"the page raised: {errors}"


