"""Honest run states, rewinds and forks, from real training processes.

Ingest runs as a process with short heartbeats (0.2 s) and a short crash
grace (6 s) set in this module's own platform settings; the query service
with its writer runs in this process.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ingest_support import ProcessIngest
from lodestar.errors import ApiError
from query_support import (
    QueryPlatform,
    free_port,
    start_query_platform,
    wait_for,
)

pytestmark = pytest.mark.timeout(240)
PROJECT = "states"
GRACE_S = 6.0

SCRIPT = """
import os, pathlib, sys, time
import lodestar
run = lodestar.init(project=sys.argv[1], id=sys.argv[2])
for i in range(5):
    run.log({"x": i})
if os.environ.get("PREEMPT"):
    run.mark_preempting("maintenance notice")
run._flush(to_disk=True)
here = pathlib.Path(sys.argv[3])
(here / "ready").write_text("ok")
while not (here / "stop").exists():
    time.sleep(0.05)
run.finish()
"""


@dataclasses.dataclass
class States:
    platform: QueryPlatform
    ingest: ProcessIngest
    root: Path

    def env(self, workdir: Path, **more: str) -> dict[str, str]:
        # run folders go to runs/: a lodestar/ folder beside a script would
        # shadow the package of an editable install
        env = {k: v for k, v in os.environ.items() if not k.startswith("LODESTAR_")}
        env.update(
            HOME=str(workdir), LODESTAR_BASE_URL=self.platform.base_url,
            LODESTAR_API_KEY=self.platform.key, LODESTAR_DIR=str(workdir / "runs"),
            LODESTAR_HEARTBEAT_INTERVAL="0.2", LODESTAR_SILENT="true",
            LODESTAR_CONSOLE="off", LODESTAR_SYSTEM_METRICS="false",
            LODESTAR_DISABLE_CODE="true", **more,
        )
        return env

    def state(self, run_id: str) -> str | None:
        try:
            return self.platform.api().run(
                f"{self.platform.user}/{PROJECT}/{run_id}").state
        except ApiError:
            return None

    def wait_state(self, run_id: str, state: str, timeout: float = 30.0) -> None:
        wait_for(lambda: self.state(run_id) == state, timeout,
                 f"run {run_id} to be {state}")


@pytest.fixture(scope="module")
def states(servers: Any, tmp_path_factory: Any) -> Iterator[States]:
    root = tmp_path_factory.mktemp("states")
    config = dataclasses.replace(servers, heartbeat_interval_s=0.2,
                                 crash_grace_s=GRACE_S, artifacts_port=free_port())
    ingest = ProcessIngest(config, root)
    ingest.start()
    artifacts = _start_artifacts(ingest.path, ingest.config.artifacts_port, root)
    try:
        for platform in start_query_platform(ingest.config, root):
            yield States(platform, ingest, root)
    finally:
        artifacts.terminate()
        artifacts.wait(10)
        ingest.stop()


def _start_artifacts(config: Path, port: int, root: Path) -> subprocess.Popen:
    """The artifacts service, which the agent uploads run files to."""
    with open(root / "artifacts.log", "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "lodestar_server.artifacts", "--config",
             str(config)], stdout=log, stderr=log,
        )
    wait_for(lambda: _healthy(f"http://127.0.0.1:{port}/healthz"), 30,
             "the artifacts service")
    return proc


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


class Training:
    """One training process running `SCRIPT`, waiting for a stop file."""

    def __init__(self, states: States, workdir: Path | None = None,
                 **env: str) -> None:
        self.run_id = uuid.uuid4().hex[:8]
        self.dir = workdir or states.root / self.run_id
        self.dir.mkdir(exist_ok=True)
        for name in ("ready", "stop"):
            (self.dir / name).unlink(missing_ok=True)
        script = self.dir / "train.py"
        script.write_text(SCRIPT)
        self.proc = subprocess.Popen(
            [sys.executable, str(script), PROJECT, self.run_id, str(self.dir)],
            env=states.env(self.dir, **env), cwd=self.dir,
        )
        wait_for(lambda: (self.dir / "ready").exists() or self.proc.poll(), 60,
                 "the training script to start")
        assert self.proc.poll() is None

    @property
    def agent_pid(self) -> int:
        status = self.dir / "runs" / "lodestar" / "latest-run" / "agent.json"
        return int(wait_for(lambda: status.exists() and json.loads(
            status.read_text()).get("pid"), 20, "the agent's pid"))

    def stop(self) -> int:
        (self.dir / "stop").write_text("ok")
        return self.proc.wait(60)


def test_sigterm_marks_the_run_killed(states: States) -> None:
    training = Training(states)

    training.proc.send_signal(signal.SIGTERM)

    assert training.proc.wait(30) == -signal.SIGTERM
    states.wait_state(training.run_id, "killed")


def test_sigterm_after_mark_preempting_marks_the_run_preempted(
    states: States,
) -> None:
    training = Training(states, PREEMPT="1")

    training.proc.send_signal(signal.SIGTERM)

    assert training.proc.wait(30) == -signal.SIGTERM
    states.wait_state(training.run_id, "preempted")


def test_a_signal_configured_as_preemption_marks_the_run_preempted(
    states: States,
) -> None:
    training = Training(states, LODESTAR_PREEMPT_SIGNALS="SIGINT")

    training.proc.send_signal(signal.SIGINT)

    training.proc.wait(30)
    states.wait_state(training.run_id, "preempted")


def test_sigkill_of_training_marks_the_run_crashed(states: States) -> None:
    training = Training(states)

    training.proc.kill()

    training.proc.wait(30)
    states.wait_state(training.run_id, "crashed")


def test_silence_is_unreachable_then_crashed_and_heartbeats_bring_it_back(
    states: States,
) -> None:
    training = Training(states)
    states.wait_state(training.run_id, "running")
    agent = training.agent_pid

    os.kill(agent, signal.SIGSTOP)
    try:
        states.wait_state(training.run_id, "unreachable", timeout=10)
        unreachable_at = time.monotonic()
        states.wait_state(training.run_id, "crashed", timeout=GRACE_S + 10)
        waited = time.monotonic() - unreachable_at
    finally:
        os.kill(agent, signal.SIGCONT)
    states.wait_state(training.run_id, "running", timeout=20)
    code = training.stop()

    assert waited >= GRACE_S - 1.0
    assert code == 0
    states.wait_state(training.run_id, "finished")


def test_a_platform_outage_longer_than_the_grace_crashes_no_run(
    states: States,
) -> None:
    training = Training(states)
    states.wait_state(training.run_id, "running")
    seen = set()

    states.ingest.kill()
    outage_ends = time.monotonic() + GRACE_S + 2.0
    while time.monotonic() < outage_ends:
        seen.add(states.state(training.run_id))
        time.sleep(0.2)
    states.ingest.start()
    deadline = time.monotonic() + 15.0
    while time.monotonic() < deadline:
        seen.add(states.state(training.run_id))
        time.sleep(0.2)
    code = training.stop()

    assert code == 0
    states.wait_state(training.run_id, "finished")
    assert "crashed" not in seen


REWIND_SCRIPT = """
import sys
import lodestar
project, rid, fid, gid = sys.argv[1:5]
run = lodestar.init(project=project, id=rid)
for i in range(10):
    run.log({"loss": float(i)})
run.finish()
run = lodestar.init(project=project, resume_from=rid + "?_step=4")
assert run.step == 5, run.step
for i in range(5, 8):
    run.log({"acc": 100.0 + i})
run.finish()
run = lodestar.init(project=project, resume_from=rid + "?_step=2")
assert run.step == 3, run.step
run.log({"acc": 3.5})
run.finish()
run = lodestar.init(project=project, id=fid, fork_from=rid + "?_step=1")
assert run.step == 2, run.step
run.log({"loss": 50.0})
run.finish()
run = lodestar.init(project=project, id=gid, fork_from=fid + "?_step=2")
run.log({"loss": 60.0})
run.finish()
"""


def test_rewinds_hide_later_rows_and_forks_share_history(states: States) -> None:
    workdir = states.root / "rewind"
    workdir.mkdir()
    (workdir / "train.py").write_text(REWIND_SCRIPT)
    rid, fid, gid = (uuid.uuid4().hex[:8] for _ in range(3))

    done = subprocess.run(
        [sys.executable, str(workdir / "train.py"), PROJECT, rid, fid, gid],
        env=states.env(workdir), cwd=workdir, timeout=180,
    )
    assert done.returncode == 0
    for run_id in (rid, fid, gid):
        states.wait_state(run_id, "finished")
    api = states.platform.api()
    path = f"{states.platform.user}/{PROJECT}/"

    def rows(run_id: str) -> list[tuple]:
        found = api.run(path + run_id).history(pandas=False)
        return [(r["_step"], r.get("loss"), r.get("acc")) for r in found]

    assert rows(rid) == [(0, 0.0, None), (1, 1.0, None), (2, 2.0, None),
                         (3, None, 3.5)]
    assert [r["_step"] for r in api.run(path + rid).scan_history()] == [0, 1, 2, 3]
    assert rows(fid) == [(0, 0.0, None), (1, 1.0, None), (2, 50.0, None)]
    assert rows(gid) == [(0, 0.0, None), (1, 1.0, None), (2, 50.0, None),
                         (3, 60.0, None)]
    summary = api.run(path + rid).summary
    assert (summary["loss"], summary["acc"]) == (2.0, 3.5)
    kept = states.platform.app.state.storage.query(
        "SELECT count() AS n FROM history FINAL WHERE run_id = {r:String}",
        {"r": rid},
    )
    assert kept[0]["n"] == 14  # nothing rewound was deleted


OFFLINE_SCRIPT = """
import sys
import lodestar
run = lodestar.init(project=sys.argv[1], id=sys.argv[2], mode="offline")
for i in range(100):
    run.log({"loss": 1.0 / (i + 1), "step_int": i})
run.finish()
print(run.run_dir)
"""


def _lodestar(states: States, workdir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lodestar.cli", *args], env=states.env(workdir),
        cwd=workdir, capture_output=True, text=True, timeout=120,
    )


def _offline_run(states: States, workdir: Path, run_id: str) -> Path:
    (workdir / "offline.py").write_text(OFFLINE_SCRIPT)
    done = subprocess.run(
        [sys.executable, str(workdir / "offline.py"), PROJECT, run_id],
        env=states.env(workdir), cwd=workdir, capture_output=True, text=True,
        timeout=120, check=True,
    )
    return Path(done.stdout.strip().splitlines()[-1])


def test_sync_verify_reports_what_the_server_lacks_and_edits_survive_resync(
    states: States,
) -> None:
    workdir = states.root / "verify"
    workdir.mkdir()
    synced_id, unsent_id = uuid.uuid4().hex[:8], uuid.uuid4().hex[:8]
    synced_dir = _offline_run(states, workdir, synced_id)
    unsent_dir = _offline_run(states, workdir, unsent_id)

    assert _lodestar(states, workdir, "sync", str(synced_dir)).returncode == 0
    states.wait_state(synced_id, "finished")
    good = _lodestar(states, workdir, "sync", "--verify", str(synced_dir))
    bad = _lodestar(states, workdir, "sync", "--verify", str(unsent_dir))

    assert good.returncode == 0, good.stdout + good.stderr
    assert "matches the server" in good.stdout
    assert (synced_dir / ".synced").exists()
    assert bad.returncode == 1
    assert "the server applied 0" in bad.stdout
    assert "'loss': the server has none of the WAL's 100 steps" in bad.stdout

    api = states.platform.api()
    run = api.run(f"{states.platform.user}/{PROJECT}/{synced_id}")
    run.name = "edited"
    run.update()
    (synced_dir / ".synced").unlink()
    assert _lodestar(states, workdir, "sync", str(synced_dir)).returncode == 0
    assert api.run(f"{states.platform.user}/{PROJECT}/{synced_id}").name == "edited"
    run.delete()
    assert _lodestar(states, workdir, "sync", str(synced_dir)).returncode == 0
    assert states.state(synced_id) is None


def test_an_interrupted_online_run_is_sent_again_by_the_next_init(
    states: States,
) -> None:
    training = Training(states, LODESTAR_FINISH_TIMEOUT="1")
    states.wait_state(training.run_id, "running")
    agent = training.agent_pid
    os.kill(agent, signal.SIGSTOP)
    (training.dir / "stop").write_text("ok")
    training.proc.wait(60)
    os.kill(agent, signal.SIGKILL)
    os.kill(agent, signal.SIGCONT)
    first_dir = (training.dir / "runs" / "lodestar" / "latest-run").resolve()
    assert not (first_dir / ".synced").exists()

    second = Training(states, workdir=training.dir)
    assert second.stop() == 0

    wait_for(lambda: (first_dir / ".synced").exists(), 60,
             "the interrupted run to be sent again")
    states.wait_state(training.run_id, "finished")
    rows = states.platform.api().run(
        f"{states.platform.user}/{PROJECT}/{training.run_id}").history(pandas=False)
    assert [row["x"] for row in rows] == [0, 1, 2, 3, 4]
