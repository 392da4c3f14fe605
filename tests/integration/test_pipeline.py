"""End to end on the local platform: SDK → agent → ingest → JetStream →
writer → chDB → query → `lodestar.Api`, with the processes killed on purpose."""

from __future__ import annotations

import math
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import lodestar
import pytest
from polling import wait_for

pytestmark = pytest.mark.timeout(600)

REPO = Path(__file__).resolve().parents[2]


def _api(platform) -> lodestar.Api:
    return lodestar.Api(
        overrides={"base_url": platform.base_url}, api_key=platform.api_key
    )


def _script(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "train.py"
    path.write_text(textwrap.dedent(body))
    return path


def _start(platform, script: Path, cwd: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-u", str(script), *args],
        cwd=cwd,
        env=platform.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _run_script(platform, tmp_path: Path, body: str, *args: str) -> str:
    proc = _start(platform, _script(tmp_path, body), tmp_path, *args)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    return out


def _steps(run, key: str) -> list[int]:
    return [row["_step"] for row in run.scan_history(keys=[key], page_size=5000)]


def _wait_steps(platform, path: str, key: str, count: int, timeout: float = 120):
    api = _api(platform)

    def stored():
        try:
            steps = _steps(api.run(path), key)
        except lodestar.errors.ApiError:
            return None
        return steps if len(steps) >= count else None

    return wait_for(stored, timeout, f"{count} steps of {key} in {path}")


def test_quickstart_runs_come_back_with_every_value(local_platform, tmp_path):
    out = _run_script(
        local_platform,
        tmp_path,
        f"""
        import runpy, sys
        sys.argv = ["quickstart.py"]
        runpy.run_path({str(REPO / "examples" / "quickstart.py")!r},
                       run_name="__main__")
        """,
    )
    assert "Traceback" not in out
    api = _api(local_platform)
    entity = api.default_entity
    runs = wait_for(
        lambda: [
            r for r in api.runs(f"{entity}/basic-intro") if r.state == "finished"
        ]
        if len(list(api.runs(f"{entity}/basic-intro"))) >= 5
        else None,
        60,
        "five finished quickstart runs",
    )
    names = sorted(r.name for r in runs)
    assert names[:5] == [f"experiment_{i}" for i in range(5)]
    for run in runs[:5]:
        assert set(run.config) >= {"learning_rate", "architecture", "dataset", "epochs"}
        rows = list(run.scan_history(keys=["acc", "loss"]))
        assert [r["_step"] for r in rows] == list(range(8))
        assert all(isinstance(r["acc"], float) and 0 <= r["acc"] <= 1 for r in rows)
        assert run.summary["acc"] == rows[-1]["acc"]


OFFLINE_BODY = """
import sys, lodestar
mode = sys.argv[1]
run = lodestar.init(project="offline-equal", id=sys.argv[2], mode=mode,
                    config={"lr": 0.1, "nested": {"depth": 3}})
for step in range(50):
    run.log({"loss": 1.0 / (step + 1), "big": 2**70 + step, "flag": step % 2 == 0,
             "nan": float("nan") if step == 7 else step * 0.5})
run.summary["best"] = 0.25
run.finish()
print(run.run_dir)
"""


def _rows(run) -> list[dict]:
    keys = ["loss", "big", "flag", "nan"]
    rows = list(run.scan_history(keys=keys, page_size=1000))
    wanted = ["_step", "_timestamp", "_runtime", *keys]
    return [{k: r.get(k) for k in wanted} for r in rows]


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    return a == b and type(a) is type(b)


def test_offline_run_synced_twice_equals_online_run(local_platform, tmp_path):
    run_dir = Path(
        _run_script(local_platform, tmp_path, OFFLINE_BODY, "offline", "offl0001")
        .strip()
        .splitlines()[-1]
    )
    sync = [sys.executable, "-m", "lodestar.cli", "sync", str(run_dir)]
    for _ in range(2):
        done = subprocess.run(
            sync, env=local_platform.env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
    assert (run_dir / ".synced").exists()
    _run_script(local_platform, tmp_path, OFFLINE_BODY, "online", "onli0001")

    api = _api(local_platform)
    entity = api.default_entity
    offline_path = f"{entity}/offline-equal/offl0001"
    online_path = f"{entity}/offline-equal/onli0001"
    offline = _wait_steps(local_platform, offline_path, "loss", 50)
    online = _wait_steps(local_platform, online_path, "loss", 50)
    assert offline == online == list(range(50))
    off_rows = _rows(api.run(offline_path))
    on_rows = _rows(api.run(online_path))
    assert len(off_rows) == len(on_rows) == 50
    for off, on in zip(off_rows, on_rows, strict=True):
        for key in ("loss", "big", "flag", "nan"):
            assert _same(off[key], on[key]), (key, off, on)
    assert off_rows[3]["big"] == 2**70 + 3
    assert off_rows[4]["flag"] is True
    # The offline run's own timestamps survive the sync: synced twice, unchanged.
    local = lodestar.wal.read_all(next(run_dir.glob("*.wal")))[1]
    first_batch = next(e.history for e in local if e.WhichOneof("body") == "history")
    assert off_rows[0]["_timestamp"] == first_batch.timestamps[0]
    off_run = api.run(offline_path)
    assert off_run.config["nested"] == {"depth": 3}
    assert off_run.summary["best"] == 0.25


LONG_BODY = """
import sys, lodestar
run = lodestar.init(project="kills", id=sys.argv[1])
for step in range(20000):
    run.log({"x": float(step), "y": step})
    if step % 2000 == 0:
        print("at", step, flush=True)
run.finish()
print("finished", flush=True)
"""


@pytest.mark.parametrize("victim", ["ingest", "query"])
def test_server_killed_mid_run_stores_every_point_once(
    local_platform, tmp_path, victim
):
    run_id = f"kill-{victim}"
    proc = _start(local_platform, _script(tmp_path, LONG_BODY), tmp_path, run_id)
    for line in proc.stdout:
        if line.startswith("at 4000"):
            break
    local_platform.kill(victim)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    local_platform.wait_healthy(120)

    api = _api(local_platform)
    path = f"{api.default_entity}/kills/{run_id}"
    steps = _wait_steps(local_platform, path, "x", 20000, timeout=240)
    assert steps == list(range(20000))
    run = api.run(path)
    assert wait_for(lambda: api.run(path).state == "finished", 60, "finished")
    assert run.summary["y"] == 19999


TIMED_BODY = """
import sys, time, lodestar
run = lodestar.init(project="kills", id=sys.argv[1])
step = 0
while True:
    run.log({"x": float(step)})
    print(step, time.time(), flush=True)
    step += 1
    time.sleep(0.002)
"""


def test_training_process_killed_reads_crashed_with_data(local_platform, tmp_path):
    proc = _start(local_platform, _script(tmp_path, TIMED_BODY), tmp_path, "crash-1")
    logged: list[tuple[int, float]] = []
    for line in proc.stdout:
        step, at = line.split()
        logged.append((int(step), float(at)))
        if len(logged) >= 1500:
            break
    killed_at = time.time()
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)

    api = _api(local_platform)
    path = f"{api.default_entity}/kills/crash-1"
    wait_for(lambda: api.run(path).state == "crashed", 20, "state crashed")
    before = [s for s, at in logged if at < killed_at - 0.1]
    stored = set(_steps(api.run(path), "x"))
    assert set(before) <= stored


AGENT_BODY = """
import os, sys, time, pathlib, lodestar
from lodestar.agent_status import read_status
run = lodestar.init(project="kills", id=sys.argv[1])
for step in range(3000):
    run.log({"x": float(step)})
    if step == 1000:
        while not read_status(pathlib.Path(run.run_dir)).pid:
            time.sleep(0.01)
        print("agent", read_status(pathlib.Path(run.run_dir)).pid, flush=True)
        while not os.path.exists(sys.argv[2]):
            time.sleep(0.01)
run.finish()
"""


def test_agent_killed_is_restarted_and_nothing_is_lost(local_platform, tmp_path):
    flag = tmp_path / "go"
    proc = _start(
        local_platform, _script(tmp_path, AGENT_BODY), tmp_path, "agent-1", str(flag)
    )
    line = proc.stdout.readline()
    agent_pid = int(line.split()[1])
    subprocess.run(["kill", "-9", str(agent_pid)], check=True)
    flag.write_text("go")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err

    api = _api(local_platform)
    path = f"{api.default_entity}/kills/agent-1"
    assert _wait_steps(local_platform, path, "x", 3000) == list(range(3000))
    assert wait_for(lambda: api.run(path).state == "finished", 60, "finished")


FORK_BODY = """
import multiprocessing as mp, sys, lodestar

def child(i):
    return i * i

run = lodestar.init(project="forks", id=sys.argv[1])
for step in range(200):
    run.log({"x": float(step)})
    if step % 50 == 0:
        with mp.get_context("fork").Pool(2) as pool:
            assert pool.map(child, range(8)) == [i * i for i in range(8)]
run.finish()
"""


def test_forking_training_process_keeps_its_run(local_platform, tmp_path):
    _run_script(local_platform, tmp_path, FORK_BODY, "fork-1")
    api = _api(local_platform)
    path = f"{api.default_entity}/forks/fork-1"
    assert _wait_steps(local_platform, path, "x", 200) == list(range(200))


BAD_BODY = """
import lodestar
run = lodestar.init(project="bad-input", id="bad-1")
run.log({"ok": 1.5, "": 2.0, "k" * 300: 3.0, "blob": "x" * (10 * 1024 * 1024),
         "obj": object()})
run.log({"ok": 2.5})
run.finish()
"""


def test_bad_values_warn_and_the_rest_is_stored(local_platform, tmp_path):
    proc = _start(local_platform, _script(tmp_path, BAD_BODY), tmp_path)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    for words in ("empty", "256", "1 MB", "obj"):
        assert words in err, (words, err)
    api = _api(local_platform)
    path = f"{api.default_entity}/bad-input/bad-1"
    _wait_steps(local_platform, path, "ok", 2)
    rows = list(api.run(path).scan_history(keys=["ok"]))
    assert [r["ok"] for r in rows] == [1.5, 2.5]


FOREIGN_BODY = """
import lodestar
try:
    lodestar.init(project="p", entity="nobody-owns-this")
except lodestar.errors.RunError as exc:
    print("refused", exc.code)
"""


def test_init_for_an_entity_the_user_cannot_use_is_an_error(local_platform, tmp_path):
    out = _run_script(local_platform, tmp_path, FOREIGN_BODY)
    assert out.strip().splitlines()[-1] == "refused permission_denied"


HOLD_BODY = """
import os, sys, time, lodestar
run = lodestar.init(project="busy", id="busy-1")
run.log({"x": 1.0})
print("started", flush=True)
while not os.path.exists(sys.argv[1]):
    time.sleep(0.01)
run.finish()
"""

SECOND_BODY = """
import lodestar
try:
    lodestar.init(project="busy", id="busy-1", resume="allow")
except lodestar.errors.RunError as exc:
    print("refused", exc.code)
"""


def test_second_process_cannot_resume_a_run_another_is_logging(
    local_platform, tmp_path
):
    flag = tmp_path / "done"
    first_dir = tmp_path / "first"
    first_dir.mkdir()
    holder = _start(local_platform, _script(first_dir, HOLD_BODY), first_dir,
                    str(flag))
    assert holder.stdout.readline().strip() == "started"
    second_dir = tmp_path / "second"
    second_dir.mkdir()
    out = _run_script(local_platform, second_dir, SECOND_BODY)
    flag.write_text("go")
    assert holder.wait(timeout=120) == 0
    assert out.strip().splitlines()[-1] == "refused run_active"
    # The refused run left no folder for `lodestar sync` to send again.
    assert (second_dir / "lodestar").is_dir()
    assert not list((second_dir / "lodestar").glob("run-*"))


RESUME_BODY = """
import sys, time, lodestar
run = lodestar.init(project="runtime", id="resumed-1", resume="allow")
for i in range(3):
    run.log({"x": float(i)})
    time.sleep(0.5)
run.finish()
"""


def test_runtime_continues_where_a_resumed_run_stopped(local_platform, tmp_path):
    _run_script(local_platform, tmp_path, RESUME_BODY)
    api = _api(local_platform)
    path = f"{api.default_entity}/runtime/resumed-1"
    _wait_steps(local_platform, path, "x", 3)
    first = wait_for(lambda: api.run(path).summary.get("_runtime"), 60,
                      "the first part's runtime in the summary")
    _run_script(local_platform, tmp_path, RESUME_BODY)
    _wait_steps(local_platform, path, "x", 6)

    rows = list(api.run(path).scan_history(keys=["x", "_runtime"]))
    runtimes = [row["_runtime"] for row in rows]
    assert [row["_step"] for row in rows] == list(range(6))
    assert runtimes == sorted(runtimes)
    assert runtimes[3] >= first
