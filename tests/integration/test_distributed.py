"""The torch.distributed examples (gloo, two CPU processes) on the local
platform, and what a run records unasked, read back through the API."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import lodestar
import pytest
from polling import wait_for

pytestmark = pytest.mark.timeout(600)

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"


def _api(platform) -> lodestar.Api:
    return lodestar.Api(
        overrides={"base_url": platform.base_url}, api_key=platform.api_key
    )


def _example(platform, tmp_path: Path, name: str, *args: str) -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args], cwd=tmp_path,
        env={**platform.env, "LODESTAR_SYSTEM_METRICS": "false"},
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr


def _finished_runs(api, path: str, keep) -> list:
    runs = [run for run in api.runs(path) if keep(run)]
    return runs if runs and all(r.state == "finished" for r in runs) else []


def test_ddp_example_where_every_rank_tracks_a_run(local_platform, tmp_path):
    pytest.importorskip("torch")
    api = _api(local_platform)
    group = "ddp-" + lodestar.util.generate_id()
    _example(local_platform, tmp_path, "ddp_all_ranks.py", "--steps", "6",
             "--group", group)
    path = f"{api.default_entity}/ddp-example"
    runs = wait_for(
        lambda: len(found := _finished_runs(api, path, lambda r: r.group == group))
        == 2 and found, 60, "both ranks' runs")
    assert sorted(run.job_type for run in runs) == ["rank0", "rank1"]
    for run in runs:
        rows = run.history(pandas=False)
        assert [row["_step"] for row in rows] == list(range(6))
        assert run.config["rank"] == int(run.job_type[-1])


def test_ddp_example_where_only_rank_zero_tracks(local_platform, tmp_path):
    pytest.importorskip("torch")
    api = _api(local_platform)
    name = "rank0-" + lodestar.util.generate_id()
    _example(local_platform, tmp_path, "ddp_rank0.py", "--steps", "6",
             "--name", name)
    path = f"{api.default_entity}/ddp-example"
    [run] = wait_for(
        lambda: _finished_runs(api, path, lambda r: r.name == name), 60,
        "the rank 0 run")
    losses = [row["loss"] for row in run.history(pandas=False)]
    assert len(losses) == 6 and losses[-1] < losses[0]
    assert run.config == {"world_size": 2, "lr": 0.05}


RECORDED = """
    import lodestar
    from tqdm import tqdm

    run = lodestar.init(project="recorded",
                        settings={"system_metrics_interval": 0.2})
    print("hello from the script")
    for step in tqdm(range(20), mininterval=0):
        run.log({"x": step})
    run.finish()
    print(run.id)
"""


def test_system_metrics_and_console_reach_the_platform(local_platform, tmp_path):
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(RECORDED))
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path,
                          env=local_platform.env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    run_id = done.stdout.split()[-1]
    api = _api(local_platform)
    path = f"{api.default_entity}/recorded/{run_id}"
    run = wait_for(lambda: (r := api.run(path)).state == "finished" and r, 60,
                    "the run to finish")
    rows = wait_for(lambda: run.history(stream="system", pandas=False), 60,
                     "system metrics")
    assert {"cpu.percent", "memory.process_rss_bytes", "disk.percent",
            "network.sent_bytes"} <= set(rows[0])
    lines = wait_for(run.console_logs, 60, "console lines")
    assert lines[0] == "hello from the script"
    assert len(lines) == 2 and lines[1].startswith("100%|") and "20/20" in lines[1]
    assert run.metadata["command"].endswith("train.py")
    assert run.metadata["program"].endswith("train.py")
