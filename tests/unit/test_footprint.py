"""The local footprint: which run directories clean and the size cap remove."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from lodestar import footprint
from lodestar.errors import UsageError


def _run_dir(root: Path, name: str, synced: bool, age_s: float, size: int = 10,
             done: bool = False) -> Path:
    path = root / name
    (path / "logs").mkdir(parents=True)
    (path / f"run-{name}.wal").write_bytes(b"x" * size)
    (path / "agent.json").write_text(json.dumps({"done": done, "pid": 0}))
    then = time.time() - age_s
    if synced:
        marker = path / footprint.SYNCED_MARKER
        marker.write_text(str(then))
        os.utime(marker, (then, then))
    os.utime(path, (then, then))
    return path


@pytest.fixture
def root(tmp_path: Path) -> Path:
    found = tmp_path / "lodestar"
    found.mkdir()
    return found


def test_clean_removes_only_synced_directories_older_than_asked(root: Path) -> None:
    old_synced = _run_dir(root, "run-a", synced=True, age_s=3 * 86400)
    new_synced = _run_dir(root, "run-b", synced=True, age_s=60)
    unsynced = _run_dir(root, "run-c", synced=False, age_s=3 * 86400)
    (root / "latest-run").symlink_to(old_synced)

    removed = footprint.clean(root, older_than_s=86400)

    assert removed == [old_synced]
    assert new_synced.exists() and unsynced.exists()
    assert not (root / "latest-run").is_symlink()


def test_clean_include_unsynced_removes_those_too(root: Path) -> None:
    unsynced = _run_dir(root, "run-c", synced=False, age_s=100)

    assert footprint.clean(root, include_unsynced=True) == [unsynced]


def test_cap_prunes_oldest_synced_runs_then_the_cache(root: Path,
                                                      tmp_path: Path) -> None:
    oldest = _run_dir(root, "run-1", synced=True, age_s=300, size=1000)
    newer = _run_dir(root, "run-2", synced=True, age_s=200, size=1000)
    unsynced = _run_dir(root, "run-0", synced=False, age_s=900, size=1000)
    cache = tmp_path / "cache"
    (cache / "artifacts").mkdir(parents=True)
    (cache / "artifacts" / "blob").write_bytes(b"y" * 1000)

    freed = footprint.enforce_cap(root, cache, max_bytes=3200)

    assert not oldest.exists()
    assert newer.exists() and unsynced.exists()
    assert (cache / "artifacts" / "blob").exists()
    assert freed >= 1000
    footprint.enforce_cap(root, cache, max_bytes=1500, keep=newer)
    assert newer.exists() and unsynced.exists()
    assert not (cache / "artifacts" / "blob").exists()


def test_interrupted_finds_online_unsynced_runs_without_an_agent(root: Path) -> None:
    interrupted = _run_dir(root, "run-i", synced=False, age_s=10)
    _run_dir(root, "run-s", synced=True, age_s=10)
    _run_dir(root, "offline-run-o", synced=False, age_s=10)
    _run_dir(root, "run-d", synced=False, age_s=10, done=True)
    current = _run_dir(root, "run-now", synced=False, age_s=0)

    found = footprint.interrupted(root, current=current)

    assert [run.path for run in found] == [interrupted]


def test_interrupted_runs_are_resent_only_to_the_platform_they_were_started_for(
    root: Path,
) -> None:
    here = _run_dir(root, "run-here", synced=False, age_s=30)
    (here / footprint.PLATFORM_URL).write_text("http://127.0.0.1:8080")
    elsewhere = _run_dir(root, "run-elsewhere", synced=False, age_s=20)
    (elsewhere / footprint.PLATFORM_URL).write_text("http://127.0.0.1:1")
    unrecorded = _run_dir(root, "run-old", synced=False, age_s=10)

    found = footprint.interrupted(root, base_url="http://127.0.0.1:8080/")

    assert sorted(run.path for run in found) == sorted([here, unrecorded])


@pytest.mark.parametrize(("text", "seconds"), [
    ("24h", 86400.0), ("30m", 1800.0), ("7d", 604800.0), ("90s", 90.0),
    ("2", 7200.0), ("1.5h", 5400.0),
])
def test_ages_are_read_with_their_units(text: str, seconds: float) -> None:
    assert footprint.parse_age(text) == seconds


def test_a_bad_age_says_how_to_write_one() -> None:
    with pytest.raises(UsageError, match="such as 24h"):
        footprint.parse_age("yesterday")
