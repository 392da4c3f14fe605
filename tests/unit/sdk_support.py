"""Shared pieces of the SDK's unit tests: an isolated offline run and readers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lodestar
import pytest
from lodestar import history, wal


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh working directory, home and settings, and no LODESTAR_* set."""
    for name in list(os.environ):
        if name.startswith("LODESTAR_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home" / ".config"))
    monkeypatch.setenv("NETRC", str(tmp_path / "home" / ".netrc"))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    yield work
    lodestar.finish()


def offline(work: Path, **kwargs: Any) -> lodestar.Run:
    kwargs.setdefault("project", "unit")
    return lodestar.init(mode="offline", dir=work, **kwargs)


def wal_path(run: lodestar.Run) -> Path:
    return Path(run.run_dir) / f"run-{run.id}.wal"


def events(run: lodestar.Run) -> list:
    _, found = wal.read_all(wal_path(run))
    return found


def rows(run: lodestar.Run) -> list[tuple[int, float, float, dict[str, Any]]]:
    """Every stored row, in WAL order."""
    found = []
    for event in events(run):
        if event.HasField("history"):
            found.extend(history.decode_batch(event.history))
    return found


def by_step(run: lodestar.Run) -> dict[int, dict[str, Any]]:
    """The values stored at each step, a later row replacing an earlier one."""
    stored: dict[int, dict[str, Any]] = {}
    for step, _, _, values in rows(run):
        stored.setdefault(step, {}).update(values)
    return stored


def bodies(run: lodestar.Run, field: str) -> list:
    return [getattr(e, field) for e in events(run) if e.HasField(field)]
