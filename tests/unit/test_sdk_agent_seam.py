"""How the training process starts, watches and waits for its agent.

The platform is not running here: the agent is started against a loopback
port where nothing listens, so it keeps retrying. What the platform would
answer through ``agent.json`` is written by the test, as the agent would.
"""

# ruff: noqa: F811 - the `workdir` fixture is imported from sdk_support

from __future__ import annotations

import os
import socket
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import lodestar
import psutil
import pytest
from lodestar import LodestarWarning, RunError, startup
from lodestar._proto import events_pb2
from lodestar.agent_status import AgentStatus
from sdk_support import events, workdir  # noqa: F401


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def agents() -> list[psutil.Process]:
    found = []
    for child in psutil.Process().children():
        try:
            if "lodestar.agent" in child.cmdline():
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


def wait_for(predicate, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"not true within {timeout}s: {predicate}")


@pytest.fixture
def online(workdir, monkeypatch) -> Iterator[Path]:
    monkeypatch.setenv("LODESTAR_BASE_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("LODESTAR_API_KEY", "unit-test-key")
    monkeypatch.setenv("LODESTAR_FINISH_TIMEOUT", "1")
    monkeypatch.setenv("LODESTAR_INIT_TIMEOUT", "10")
    yield workdir
    lodestar.finish(quiet=True)
    for agent in agents():
        agent.kill()
        agent.wait(10)


def answer_as_agent(work: Path, status: AgentStatus) -> threading.Event:
    """Write `status` into the newest run directory until told to stop."""
    stop = threading.Event()

    def keep_writing() -> None:
        while not stop.is_set():
            for run_dir in (work / "lodestar").glob("run-*"):
                status.write(run_dir)
            time.sleep(0.005)

    threading.Thread(target=keep_writing, daemon=True).start()
    return stop


def test_agent_is_started_as_the_seam_says(online):
    run = lodestar.init(project="seam", dir=online)
    [agent] = wait_for(agents)
    assert agent.cmdline() == [
        sys.executable, "-m", "lodestar.agent", run.run_dir,
        "--parent-pid", str(os.getpid()),
    ]
    assert os.getsid(agent.pid) == agent.pid
    environ = agent.environ()
    assert environ["LODESTAR_API_KEY"] == "unit-test-key"
    assert environ["LODESTAR_BASE_URL"] == os.environ["LODESTAR_BASE_URL"]
    assert (Path(run.run_dir) / "logs" / "agent.log").exists()
    assert Path(run.run_dir).name.startswith("run-")


def test_dead_agent_is_restarted(online):
    lodestar.init(project="seam", dir=online)
    [first] = wait_for(agents)
    with pytest.warns(LodestarWarning, match="exited with code -9; starting a new one"):
        first.kill()  # not waited for here: the SDK's Popen must reap it
        [second] = wait_for(lambda: [a for a in agents() if a.pid != first.pid])
        lodestar.log({"a": 1})
        lodestar.summary.get("a")
    assert second.is_running()


def test_finish_returns_after_its_timeout_and_agent_carries_on(online):
    run = lodestar.init(project="seam", dir=online)
    run.log({"a": 1})
    started = time.monotonic()
    with pytest.warns(LodestarWarning, match="carries on in the background"):
        run.finish()
    assert time.monotonic() - started < 5
    assert events(run)[-1].HasField("finish")
    assert [a.is_running() for a in agents()] == [True]


def test_finish_returns_once_the_finish_event_is_acknowledged(online):
    run = lodestar.init(project="seam", dir=online)
    run.log({"a": 1})
    stop = answer_as_agent(online, AgentStatus(acked_seq=10**6))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", LodestarWarning)
            run.finish()
    finally:
        stop.set()


def test_resume_must_of_unknown_run_raises_run_error(online):
    refused = AgentStatus(error={"code": "run_not_found", "message": "no run zz"})
    stop = answer_as_agent(online, refused)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", LodestarWarning)
            with pytest.raises(RunError, match="no run zz") as raised:
                lodestar.init(project="seam", dir=online, id="zzzzzzzz", resume="must")
    finally:
        stop.set()
    assert raised.value.code == "run_not_found"
    assert lodestar.run is None


def test_resume_continues_where_the_platform_says(online):
    opened = {
        "entity": "team", "next_step": "42", "resumed": True,
        "config_json": '{"stored": 1, "lr": 0.5}', "summary_json": '{"best": 0.9}',
    }
    stop = answer_as_agent(online, AgentStatus(opened=opened))
    try:
        run = lodestar.init(project="seam", dir=online, id="resumeme", resume="allow",
                            config={"lr": 0.1})
    finally:
        stop.set()
    assert (run.step, run.entity, run.resumed) == (42, "team", True)
    assert run.config.as_dict() == {"lr": 0.1, "stored": 1}
    assert run.summary["best"] == 0.9
    run.log({"a": 1})
    run.finish(quiet=True)
    assert events(run)[0].run_start.resume == events_pb2.RESUME_ALLOW
    stored = [e.history for e in events(run) if e.HasField("history")]
    assert [list(b.steps) for b in stored] == [[42]]


def test_new_run_waits_only_briefly_for_an_absent_platform(online):
    started = time.monotonic()
    run = lodestar.init(project="seam", dir=online)
    assert time.monotonic() - started < startup.NEW_RUN_WAIT_S + 2
    assert run.step == 0


def test_agent_is_out_of_reach_of_terminal_signals(online):
    lodestar.init(project="seam", dir=online)
    [agent] = wait_for(agents)
    assert os.getpgid(agent.pid) != os.getpgid(0)
