"""Artifacts pages and the run's files in a real Chromium, from real runs.

``log_artifacts.py`` logs the dataset ``digits`` (run ``prep``) and the model
``classifier`` (run ``train``, which uses ``digits:golden``).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from browser_support import Dashboard, screenshot, wait_for

TIMEOUT_MS = 30_000
CSV = "id,label,weight\n0,zero,0.5\n1,one,0.25\n2,two,0.125\n"


@pytest.fixture(scope="module")
def board(dashboard: Dashboard) -> Dashboard:
    """A project of its own, so the runs table tests keep their five runs."""
    return Dashboard(dashboard.platform, "arts-" + uuid.uuid4().hex[:6])


@pytest.fixture(scope="module")
def sources(board: Dashboard, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The logged files on disk, once both runs are finished and queryable."""
    root = tmp_path_factory.mktemp("artifact-sources")
    board.run_logger("log_artifacts.py", board.project, str(root))
    base = f"/api/v1/runs/{board.entity}/{board.project}/train"

    def stored() -> bool:
        lineage = board.get(f"/api/v1/lineage/{board.entity}/{board.project}/"
                            "digits/v0")
        made = board.get(base + "/artifacts")["artifacts"]
        files = {f["path"] for f in board.get(base + "/files")["files"]}
        return (lineage["used_by"] == [f"{board.entity}/{board.project}/train"]
                and [a["name"] for a in made] == ["classifier"]
                and "eval/metrics.csv" in files)

    wait_for(stored, "the lineage and the run files to be queryable")
    return root


def _open(page: Any, url: str, selector: str) -> None:
    page.goto(url)
    page.wait_for_selector(selector, timeout=TIMEOUT_MS)


def _version(page: Any, board: Dashboard, **params: str) -> None:
    url = board.url("artifacts", name="digits", version="v0", **params)
    _open(page, url, ".lineage-node")


def _pick(page: Any, path: str) -> None:
    page.click(f'tr[data-path="{path}"] button.file-name')
    page.wait_for_selector(f'.preview[data-path="{path}"] .preview-head',
                           timeout=TIMEOUT_MS)


def test_artifacts_page_lists_types_names_versions_and_aliases(
    page: Any, board: Dashboard, sources: Path
):
    _open(page, board.url("artifacts"), ".artifact-list")
    types = page.eval_on_selector_all(".artifact-list section",
                                      "(s) => s.map((e) => e.dataset.type)")
    assert types == ["dataset", "model"]
    page.click('button.artifact-name[data-name="digits"]')
    page.wait_for_selector("#artifact-versions tbody tr", timeout=TIMEOUT_MS)
    row = page.locator('#artifact-versions tr[data-version="v0"]')
    aliases = row.locator(".tag.alias").all_inner_texts()
    assert aliases == ["golden", "latest"]
    assert row.locator(".producer-link").inner_text() == "prep"
    assert "name=digits" in page.url
    screenshot(page, "artifacts-versions")


def test_version_view_shows_metadata_and_reloads_to_the_same_version(
    page: Any, board: Dashboard, sources: Path
):
    _open(page, board.url("artifacts"), ".artifact-list")
    page.click('button.artifact-name[data-name="digits"]')
    page.click('#artifact-versions button.version-pick:text("v0")')
    page.wait_for_selector("#artifact-metadata", timeout=TIMEOUT_MS)
    assert "version=v0" in page.url
    page.reload()
    page.wait_for_selector("#artifact-metadata", timeout=TIMEOUT_MS)
    assert page.inner_text("#version-title") == "digits:v0"
    rows = page.eval_on_selector_all(
        "#artifact-metadata tr",
        "(rows) => rows.map((r) => [r.cells[0].innerText, r.cells[1].innerText])")
    assert rows == [["rows", "3"], ["source", "synthetic"], ["split.train", "0.8"]]
    key_widths = page.eval_on_selector_all(
        "#artifact-metadata th", "(cells) => cells.map((c) => c.offsetWidth)")
    assert min(key_widths) > 60  # the keys are seen, not squeezed out by values
    assert page.inner_text(".description") == "Digits for the classifier."


def test_file_browser_expands_folders_and_previews_text_image_and_tables(
    page: Any, board: Dashboard, sources: Path
):
    _version(page, board)
    assert page.locator('tr[data-path="raw/deep/readme.md"]').count() == 0
    page.click('tr[data-folder="raw"] button.tree-toggle')
    page.click('tr[data-folder="raw/deep"] button.tree-toggle')
    assert page.locator('tr[data-path="raw/deep/readme.md"]').count() == 1

    _pick(page, "notes.txt")
    assert "line 39: pixels are 0-16" in page.inner_text(".preview-text")

    page.click('tr[data-folder="images"] button.tree-toggle')
    _pick(page, "images/sample.png")
    page.wait_for_function(
        "() => document.querySelector('.preview-image')?.naturalWidth === 32",
        timeout=TIMEOUT_MS)
    assert _centre_pixel(page) == [20, 200, 40]
    screenshot(page, "artifacts-image-preview")

    _pick(page, "labels.csv")
    assert _preview_rows(page) == [["id", "label", "weight"], ["0", "zero", "0.5"],
                                   ["1", "one", "0.25"], ["2", "two", "0.125"]]
    screenshot(page, "artifacts-files")
    _pick(page, "counts.table.json")
    assert _preview_rows(page) == [["digit", "count"], ["0", "10"], ["1", "12"]]


def test_reference_entry_says_it_is_not_stored(
    page: Any, board: Dashboard, sources: Path
):
    _version(page, board, file="external.bin")
    page.wait_for_selector(".reference-note", timeout=TIMEOUT_MS)
    assert "not stored" in page.inner_text(".reference-note")
    row = page.locator('tr[data-path="external.bin"]')
    assert row.locator("a.download").count() == 0


def test_download_links_return_the_logged_bytes(
    page: Any, board: Dashboard, sources: Path
):
    _version(page, board, file="images/sample.png")
    for path, local in [("labels.csv", "labels.csv"),
                        ("images/sample.png", "images/sample.png")]:
        href = page.get_attribute(f'tr[data-path="{path}"] a.download', "href")
        answer = page.request.get(href)
        assert answer.status == 200
        assert answer.body() == (sources / local).read_bytes()
        name = local.rsplit("/", 1)[-1]
        assert answer.headers["content-disposition"].startswith(
            f'attachment; filename="{name}"')


def test_lineage_graph_shows_both_runs_and_navigates(
    page: Any, board: Dashboard, sources: Path
):
    _version(page, board)
    labels = page.eval_on_selector_all(
        ".lineage-node", "(nodes) => nodes.map((n) => n.dataset.label)")
    assert sorted(labels) == ["classifier:v0", "digits:v0", "prep", "train"]
    assert page.locator(".lineage-edge").count() == 3
    screenshot(page, "artifacts-lineage")
    page.click('.lineage-node[data-label="classifier:v0"]')
    page.wait_for_selector('#version-title:text("classifier:v0")', timeout=TIMEOUT_MS)
    assert "name=classifier" in page.url
    page.click('.lineage-node[data-label="train"]')
    page.wait_for_selector(".tabs a[data-tab]", timeout=TIMEOUT_MS)
    assert page.url.endswith(f"/{board.project}/runs/train")


def test_run_files_tab_lists_files_with_working_downloads(
    page: Any, board: Dashboard, sources: Path
):
    _open(page, board.url("runs", "train", tab="files"), "#run-files")
    page.click('tr[data-folder="eval"] button.tree-toggle')
    _pick(page, "eval/metrics.csv")
    assert _preview_rows(page) == [["metric", "value"], ["acc", "0.97"]]
    href = page.get_attribute('tr[data-path="eval/metrics.csv"] a.download', "href")
    answer = page.request.get(href)
    assert answer.status == 200
    assert answer.body() == (sources / "eval" / "metrics.csv").read_bytes()
    assert "attachment" in answer.headers["content-disposition"]
    screenshot(page, "run-files")


def test_run_artifacts_rows_link_to_the_version_view(
    page: Any, board: Dashboard, sources: Path
):
    _open(page, board.url("runs", "train", tab="artifacts"), "#artifacts-used")
    assert page.inner_text("#artifacts-used a.artifact-link") == "digits:v0"
    page.click("#artifacts-produced a.artifact-link")
    page.wait_for_selector('#version-title:text("classifier:v0")', timeout=TIMEOUT_MS)
    page.wait_for_selector(".lineage-node", timeout=TIMEOUT_MS)
    upstream = page.eval_on_selector_all(
        ".lineage-node", "(nodes) => nodes.map((n) => n.dataset.label)")
    assert upstream == ["digits:v0", "train", "classifier:v0"]
    screenshot(page, "artifacts-model")


def _preview_rows(page: Any) -> list[list[str]]:
    page.wait_for_selector(".preview-table", timeout=TIMEOUT_MS)
    return page.eval_on_selector_all(
        ".preview-table tr",
        "(rows) => rows.map((r) => [...r.cells].map((c) => c.innerText))")


def _centre_pixel(page: Any) -> list[int]:
    return page.eval_on_selector(".preview-image", """(image) => {
      const canvas = document.createElement('canvas');
      canvas.width = image.naturalWidth; canvas.height = image.naturalHeight;
      const context = canvas.getContext('2d');
      context.drawImage(image, 0, 0);
      return [...context.getImageData(16, 12, 1, 1).data.slice(0, 3)];
    }""")
