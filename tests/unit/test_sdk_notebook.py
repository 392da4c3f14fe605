"""Notebooks: a generated notebook executed by nbclient in a real ipykernel."""

from __future__ import annotations

import os

import pytest
from lodestar import history, jupyter, wal

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

pytestmark = pytest.mark.timeout(240)

CELLS = [
    # 0: init shows a link and the run page
    'import lodestar\n'
    'run = lodestar.init(project="nb", entity="team", name="in-a-notebook")\n'
    'run.log({"x": 1})\n'
    'print("printed in a cell")',
    # 1: a cell that fails
    'raise ValueError("a cell error")',
    # 2: the run goes on after it
    'run.log({"x": 2})\n'
    'print(run.id, lodestar.run is run)',
    # 3: line magics: a project page, a run page, and a bad path
    '%lodestar team/nb',
    '%lodestar team/nb/abc123',
    '%lodestar only-one-part',
    # 6: cell magic: the cell runs, then the live charts appear under it
    '%%lodestar -h 300\n'
    'run.log({"x": 3})',
    # 7
    'run.finish()',
]


def _notebook() -> object:
    book = nbformat.v4.new_notebook()
    book.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    return book


def _html(cell) -> str:
    return "".join(out.get("data", {}).get("text/html", "")
                   for out in cell.outputs if out.output_type == "display_data")


def _text(cell) -> str:
    found = []
    for out in cell.outputs:
        if out.output_type == "stream":
            found.append(out.text)
        elif out.output_type in ("display_data", "execute_result"):
            found.append(out.get("data", {}).get("text/plain", ""))
    return "".join(found)


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory):
    """The notebook, executed once for every test of this module."""
    work = tmp_path_factory.mktemp("notebook")
    home = work / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LODESTAR_")}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"),
               LODESTAR_MODE="offline", LODESTAR_BASE_URL="http://127.0.0.1:8123",
               LODESTAR_SYSTEM_METRICS="false", LODESTAR_DIR=str(work / "out"))
    env.pop("NETRC", None)
    book = _notebook()
    client = nbclient.NotebookClient(
        book, timeout=120, kernel_name="python3", allow_errors=True,
        resources={"metadata": {"path": str(work)}},
    )
    client.execute(env=env)
    return book, work


def test_init_in_a_notebook_shows_a_link_and_the_run_page(executed):
    book, _ = executed
    markup = _html(book.cells[0])
    run_id = _text(book.cells[2]).split()[0]
    url = f"http://127.0.0.1:8123/team/nb/runs/{run_id}"
    assert f'<a href="{url}" target="_blank">{url}</a>' in markup
    assert f'<iframe src="{url}"' in markup
    assert "printed in a cell" in _text(book.cells[0])


def test_a_cell_error_does_not_end_the_run(executed):
    book, work = executed
    [error] = [o for o in book.cells[1].outputs if o.output_type == "error"]
    assert error.ename == "ValueError"
    assert _text(book.cells[2]).split()[1] == "True"
    [path] = (work / "out" / "lodestar").glob("offline-run-*/*.wal")
    _, events = wal.read_all(path)
    rows = [v for e in events if e.HasField("history")
            for _, _, _, v in history.decode_batch(e.history)]
    assert rows == [{"x": 1}, {"x": 2}, {"x": 3}]
    finishes = [e.finish for e in events if e.HasField("finish")]
    assert [(f.exit_code, f.reason) for f in finishes] == [(0, "")]


def test_line_magic_embeds_a_project_or_run_page(executed):
    book, _ = executed
    assert '<iframe src="http://127.0.0.1:8123/team/nb"' in _html(book.cells[3])
    assert ('<iframe src="http://127.0.0.1:8123/team/nb/runs/abc123"'
            in _html(book.cells[4]))
    assert "is not 'entity/project' or 'entity/project/run_id'" in _text(
        book.cells[5])


def test_cell_magic_runs_the_cell_and_shows_live_charts(executed):
    book, _ = executed
    run_id = _text(book.cells[2]).split()[0]
    markup = _html(book.cells[6])
    assert (f'<iframe src="http://127.0.0.1:8123/team/nb/runs/{run_id}?view=charts"'
            in markup)
    assert "height:300px" in markup


def test_page_url_quotes_names():
    assert jupyter.page_url("http://h:1/", "a b/p") == "http://h:1/a%20b/p"
    with pytest.raises(ValueError):
        jupyter.page_url("http://h:1", "a/b/c/d")
