"""The SDK across processes: both distributed patterns with plain
multiprocessing, fork and spawn safety, and finish() with no platform."""
# ruff: noqa: F811 - the `workdir` fixture is imported from sdk_support

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest
from lodestar import history, wal
from sdk_support import workdir  # noqa: F401

pytestmark = pytest.mark.timeout(180)

WORKERS = """
    import json, os, sys, time
    import multiprocessing as mp
    import lodestar

    QUIET = {"console": "off", "system_metrics": False}

    def every_rank(rank, group):
        run = lodestar.init(project="dist", group=group, job_type=f"rank{rank}",
                            settings=QUIET)
        for step in range(5):
            run.log({"loss": 1.0 / (step + 1), "rank": rank})
        run.finish()

    def rank_zero(rank, group):
        run = lodestar.init(project="dist", group=group, settings=QUIET) \\
            if rank == 0 else None
        for step in range(5):
            if run is not None:
                run.log({"loss": 1.0 / (step + 1)})
        if run is not None:
            run.finish()

    def unreachable(rank, group):
        run = lodestar.init(project="dist", group=group, job_type=f"rank{rank}",
                            settings=QUIET)
        run.log({"x": 1})
        started = time.monotonic()
        run.finish()
        report = {"rank": rank, "finish_s": time.monotonic() - started,
                  "agent": json.load(open(os.path.join(
                      run.run_dir, "agent.json"))).get("pid")}
        with open(f"report-{rank}.json", "w") as out:
            json.dump(report, out)

    if __name__ == "__main__":
        method, pattern = sys.argv[1], sys.argv[2]
        ctx = mp.get_context(method)
        procs = [ctx.Process(target=globals()[pattern], args=(rank, "g-" + method))
                 for rank in range(2)]
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join(120)
        sys.exit(max(proc.exitcode for proc in procs))
"""


def _run(work: Path, body: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    script = work / "workers.py"
    script.write_text(textwrap.dedent(body))
    # run folders go beside, not into, the script's folder: with an editable
    # install a ./lodestar/ folder would shadow the package in spawned children
    environ = {**os.environ, "LODESTAR_MODE": "offline",
               "LODESTAR_DIR": str(work / "out"), **env}
    return subprocess.run([sys.executable, str(script), *args], cwd=work,
                          capture_output=True, text=True, timeout=150, env=environ)


def _runs(work: Path) -> list[tuple[object, list[dict], list]]:
    """(RunStart, rows by step, Finish events) of every run directory."""
    found = []
    for path in sorted((work / "out" / "lodestar").glob("*-run-*/*.wal")):
        _, events = wal.read_all(path)
        rows = [values for event in events if event.HasField("history")
                for _, _, _, values in history.decode_batch(event.history)]
        finishes = [e.finish for e in events if e.HasField("finish")]
        found.append((events[0].run_start, rows, finishes))
    return found


@pytest.mark.parametrize("method", ["spawn", "fork"])
def test_every_rank_tracks_a_run_of_one_group(workdir, method):
    done = _run(workdir, WORKERS, method, "every_rank")
    assert done.returncode == 0, done.stderr
    runs = _runs(workdir)
    assert sorted(start.job_type for start, _, _ in runs) == ["rank0", "rank1"]
    for start, rows, finishes in runs:
        assert start.group == f"g-{method}"
        rank = int(start.job_type[-1])
        assert rows == [{"loss": 1.0 / (s + 1), "rank": rank} for s in range(5)]
        assert [f.exit_code for f in finishes] == [0]


@pytest.mark.parametrize("method", ["spawn", "fork"])
def test_only_rank_zero_tracks_the_run(workdir, method):
    done = _run(workdir, WORKERS, method, "rank_zero")
    assert done.returncode == 0, done.stderr
    [(start, rows, finishes)] = _runs(workdir)
    assert (start.group, start.job_type) == (f"g-{method}", "")
    assert rows == [{"loss": 1.0 / (s + 1)} for s in range(5)]
    assert len(finishes) == 1


FORK = """
    import os, sys, warnings
    import lodestar

    run = lodestar.init(project="fork", settings={"system_metrics": False,
                                                  "console": "redirect"})
    run.log({"parent": 1})
    pid = os.fork()
    if pid == 0:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            run.log({"child": 1})
        print("child warned:", "forked from" in str(caught[0].message), flush=True)
        own = lodestar.init(project="fork-child", settings={"console": "off",
                                                            "system_metrics": False})
        own.log({"own": 2})
        own.finish()
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    run.log({"parent": 2})
    run.finish()
    sys.exit(os.waitstatus_to_exitcode(status))
"""


def test_fork_child_never_touches_the_parent_run(workdir):
    done = _run(workdir, FORK)
    assert done.returncode == 0, done.stderr
    runs = _runs(workdir)
    rows = sorted(r for _, rs, _ in runs for r in [tuple(sorted(x)) for x in rs])
    assert rows == [("own",), ("parent",), ("parent",)]
    for _, _, finishes in runs:
        assert len(finishes) == 1
    # the child's output went through the parent's console capture
    [parent_dir] = [p for p in (workdir / "out" / "lodestar").glob("*-run-*")
                    if (p / "files" / "output.log").exists()]
    log = (parent_dir / "files" / "output.log").read_text()
    assert log == "child warned: True\n"


SPAWN = """
    import multiprocessing as mp
    import lodestar

    def child(queue):
        import lodestar as sdk
        run = sdk.init(project="spawned", settings={"console": "off"})
        run.log({"child": 1})
        run.finish()
        queue.put(run.id)

    if __name__ == "__main__":
        run = lodestar.init(project="parent", settings={"system_metrics": False})
        run.log({"parent": 1})
        ctx = mp.get_context("spawn")
        queue = ctx.Queue()
        proc = ctx.Process(target=child, args=(queue,))
        proc.start()
        child_id = queue.get(timeout=60)
        proc.join(60)
        run.log({"parent": 2})
        run.finish()
        print(run.id, child_id)
"""


def test_spawned_child_runs_its_own_run_beside_the_parent(workdir):
    done = _run(workdir, SPAWN)
    assert done.returncode == 0, done.stderr
    parent_id, child_id = done.stdout.split()
    assert parent_id != child_id
    found = {}
    for path in (workdir / "out" / "lodestar").glob("*-run-*/*.wal"):
        header, events = wal.read_all(path)
        rows = [v for e in events if e.HasField("history")
                for _, _, _, v in history.decode_batch(e.history)]
        found[header.run_id] = (header.project, rows)
    assert found == {
        parent_id: ("parent", [{"parent": 1}, {"parent": 2}]),
        child_id: ("spawned", [{"child": 1}]),
    }


def test_finish_on_every_rank_returns_when_the_platform_is_unreachable(workdir):
    env = {"LODESTAR_MODE": "online", "LODESTAR_API_KEY": "no-such-key",
           "LODESTAR_BASE_URL": f"http://127.0.0.1:{_closed_port()}",
           "LODESTAR_FINISH_TIMEOUT": "2"}
    started = time.monotonic()
    done = _run(workdir, WORKERS, "spawn", "unreachable", **env)
    elapsed = time.monotonic() - started
    reports = [json.loads(p.read_text()) for p in workdir.glob("report-*.json")]
    try:
        assert done.returncode == 0, done.stderr
        assert sorted(r["rank"] for r in reports) == [0, 1]
        assert all(r["finish_s"] < 2.0 + 3.0 for r in reports), reports
        assert elapsed < 60
    finally:
        _stop_agents([r["agent"] for r in reports if r.get("agent")])


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop_agents(pids: list[int]) -> None:
    """The agents keep retrying for minutes: stop the ones this test started."""
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            if "lodestar.agent" in " ".join(proc.cmdline()):
                proc.send_signal(signal.SIGTERM)
                proc.wait(10)
        except (psutil.NoSuchProcess, psutil.TimeoutExpired):
            continue


FORK_SIGNALS = """
    import os, signal, sys
    import lodestar

    run = lodestar.init(project="fork-signals", mode="offline",
                        settings={"system_metrics": False, "console": "off"})
    pid = os.fork()
    if pid == 0:
        # a child that Pool.terminate() signals before it has started runs
        # the default action, not a Python handler that could drop the signal
        assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
        os.kill(os.getpid(), signal.SIGTERM)
        os._exit(3)
    _, status = os.waitpid(pid, 0)
    print("child ended by", os.waitstatus_to_exitcode(status), flush=True)
    print("parent handler", signal.getsignal(signal.SIGTERM).__name__, flush=True)
    run.finish()
"""


def test_forked_child_starts_with_the_default_signal_handlers(workdir):
    done = _run(workdir, FORK_SIGNALS)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"child ended by {-signal.SIGTERM}", "parent handler _on_signal"]
