"""Jupyter: a link and a live view of the run, and the ``%lodestar`` magics.

In a Jupyter kernel, ``lodestar.init()`` shows a link to the run and the
run's page embedded below the cell. ``import lodestar`` registers:

- ``%lodestar [entity/project[/run_id]]`` (line magic): embed a project or a
  run page (without an argument, the current run's page);
- ``%%lodestar [-h HEIGHT]`` (cell magic): run the cell, then show the live
  charts of the current run under it.

Outside a kernel (``%load_ext lodestar.jupyter`` also works) nothing here
imports IPython. A run started in a notebook is not ended by a cell that
raises: IPython reports cell errors itself and never calls the process's
``sys.excepthook``, through which the SDK marks runs failed; the run ends
with ``run.finish()`` or when the kernel stops.
"""

from __future__ import annotations

import html
import logging
import shlex
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .agent_status import read_status

if TYPE_CHECKING:
    from ._run import Run

logger = logging.getLogger(__name__)

DEFAULT_HEIGHT = 420
URL_WAIT = 3.0
_URL_POLL = 0.05


def in_kernel() -> bool:
    """True inside a Jupyter kernel (IPython with a kernel attached)."""
    shell = _shell()
    return shell is not None and hasattr(shell, "kernel")


def _shell() -> Any:
    if "IPython" not in sys.modules:
        return None
    from IPython import get_ipython

    return get_ipython()


def register_if_in_kernel() -> None:
    """Register the magics when this process is a Jupyter kernel."""
    shell = _shell()
    if shell is not None and hasattr(shell, "kernel"):
        load_ipython_extension(shell)


def load_ipython_extension(shell: Any) -> None:
    """Register ``%lodestar`` and ``%%lodestar`` (``%load_ext`` entry point)."""
    shell.register_magic_function(_line_magic, "line", "lodestar")
    shell.register_magic_function(_cell_magic, "cell", "lodestar")


# ---- what is shown -------------------------------------------------------------


def page_url(base_url: str, path: str) -> str:
    """The dashboard page of ``entity/project`` or ``entity/project/run_id``."""
    parts = [p for p in path.strip().strip("/").split("/") if p]
    if len(parts) not in (2, 3):
        raise ValueError(f"{path!r} is not 'entity/project' or 'entity/project/run_id'")
    if len(parts) == 3:
        parts.insert(2, "runs")
    return base_url.rstrip("/") + "/" + "/".join(quote(p, safe="") for p in parts)


def run_url(run: Run, wait: float = URL_WAIT) -> str:
    """The run's page: from the platform's answer, else built from settings."""
    if run.url:
        return run.url
    deadline = time.monotonic() + (wait if run.mode == "online" else 0.0)
    while run.run_dir:
        opened = read_status(Path(run.run_dir)).opened or {}
        if opened.get("run_url"):
            return str(opened["run_url"])
        if time.monotonic() >= deadline:
            break
        time.sleep(_URL_POLL)
    entity = run.entity or "-"
    return page_url(run._info.settings.base_url, f"{entity}/{run.project}/{run.id}")


def embed_html(url: str, height: int = DEFAULT_HEIGHT, link: str = "") -> str:
    """A link (when `link` is given) and the page at `url` in an iframe."""
    safe = html.escape(url, quote=True)
    parts = []
    if link:
        parts.append(f'<div>{html.escape(link)} <a href="{safe}" '
                     f'target="_blank">{safe}</a></div>')
    parts.append(f'<iframe src="{safe}" style="border:none;width:100%;'
                 f'height:{int(height)}px"></iframe>')
    return "".join(parts)


def show_run(run: Run) -> None:
    """Under the cell that called ``init()``: a link and the live run page."""
    if run.disabled:
        return
    label = f"Lodestar run {run.name}" + (" (offline)" if run.offline else ":")
    try:
        _display(embed_html(run_url(run), link=label))
    except Exception:  # noqa: BLE001 - a view must never stop init()
        logger.warning("lodestar could not show the run in the notebook",
                       exc_info=True)


def _display(markup: str) -> None:
    from IPython.display import display

    # raw: IPython's HTML() warns about every iframe
    display({"text/html": markup, "text/plain": markup}, raw=True)


def _say(text: str) -> None:
    from IPython.display import display

    display({"text/plain": text}, raw=True)


# ---- magics ------------------------------------------------------------------


def _current_run() -> Run | None:
    from ._state import module_attribute

    return module_attribute("run")  # type: ignore[return-value]


def _line_magic(line: str) -> None:
    path = line.strip()
    if not path:
        run = _current_run()
        if run is None:
            _say("no current run: give %lodestar entity/project[/run_id]")
            return
        _display(embed_html(run_url(run)))
        return
    from .settings import load_settings

    try:
        url = page_url(load_settings().base_url, path)
    except ValueError as exc:
        _say(str(exc))
        return
    _display(embed_html(url))


def _cell_magic(line: str, cell: str) -> None:
    height = _height(line)
    shell = _shell()
    shell.run_cell(cell)
    run = _current_run()
    if run is None:
        _say("no current run: call lodestar.init() in the cell or before it")
        return
    _display(embed_html(run_url(run) + "?view=charts", height=height))


def _height(line: str) -> int:
    words = shlex.split(line)
    if len(words) == 2 and words[0] in ("-h", "--height") and words[1].isdigit():
        return int(words[1])
    return DEFAULT_HEIGHT
