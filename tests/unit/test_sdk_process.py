"""The training process: no grpc, signals, exceptions, atexit and fork.

Each case runs a small script in a fresh interpreter, since these hooks act on
the whole process, then reads the run's WAL back.
"""

# ruff: noqa: F811 - the `workdir` fixture is imported from sdk_support

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from lodestar import history, wal
from lodestar._proto import events_pb2
from sdk_support import workdir  # noqa: F401

PRELUDE = """
import os, signal, sys, time, warnings
import lodestar
run = lodestar.init(project="proc", mode="offline", dir=os.getcwd())
"""


def run_script(
    work: Path, body: str, before: str = "", timeout: float = 60
) -> subprocess.CompletedProcess:
    script = work / "train.py"
    script.write_text(before + PRELUDE + textwrap.dedent(body))
    env = {k: v for k, v in os.environ.items() if not k.startswith("LODESTAR_")}
    return subprocess.run(
        [sys.executable, str(script)], cwd=work, env=env, capture_output=True,
        text=True, timeout=timeout,
    )


def read_run(work: Path) -> tuple[dict[int, dict], list]:
    [path] = (work / "lodestar").glob("offline-run-*/*.wal")
    _, found = wal.read_all(path)
    stored: dict[int, dict] = {}
    for event in found:
        if event.HasField("history"):
            for step, _, _, values in history.decode_batch(event.history):
                stored.setdefault(step, {}).update(values)
    return stored, [e.finish for e in found if e.HasField("finish")]


def test_training_process_imports_no_grpc_and_holds_no_socket(workdir):
    done = run_script(workdir, """
        import psutil
        run.log({"a": 1})
        assert "grpc" not in sys.modules, "grpc was imported"
        assert psutil.Process().net_connections(kind="all") == []
        names = sorted(t.name for t in __import__("threading").enumerate())
        print(names)
        lodestar.finish()
        assert "grpc" not in sys.modules
    """)
    assert done.returncode == 0, done.stderr
    # the console reader is the one thread console capture adds
    threads = "['MainThread', 'lodestar-console', 'lodestar-writer']"
    assert done.stdout.strip() == threads


def test_unhandled_exception_marks_the_run_failed(workdir):
    done = run_script(workdir, """
        run.log({"a": 1})
        raise ValueError("boom")
    """)
    assert done.returncode == 1
    assert "ValueError: boom" in done.stderr
    stored, [finish] = read_run(workdir)
    assert stored == {0: {"a": 1}}
    assert (finish.state, finish.exit_code, finish.reason) == (
        events_pb2.FAILED, 1, "exception: ValueError",
    )


def test_atexit_finishes_a_forgotten_run(workdir):
    done = run_script(workdir, """
        for i in range(3):
            run.log({"a": i})
    """)
    assert done.returncode == 0, done.stderr
    stored, [finish] = read_run(workdir)
    assert sorted(stored) == [0, 1, 2]
    assert finish.state == events_pb2.FINISHED


@pytest.mark.parametrize(("call", "code", "state"), [
    ("sys.exit(3)", 3, events_pb2.FAILED),
    ("sys.exit('bad config')", 1, events_pb2.FAILED),
    ("sys.exit(0)", 0, events_pb2.FINISHED),
])
def test_sys_exit_status_decides_a_forgotten_runs_state(workdir, call, code, state):
    done = run_script(workdir, f"""
        run.log({{"a": 1}})
        {call}
    """)
    assert done.returncode == code, done.stderr
    _, [finish] = read_run(workdir)
    assert (finish.state, finish.exit_code) == (state, code)


def test_sigterm_with_default_action_records_kill_and_dies_by_signal(workdir):
    done = run_script(workdir, """
        run.log({"a": 1})
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(30)
    """)
    assert done.returncode == -signal.SIGTERM
    stored, [finish] = read_run(workdir)
    assert stored == {0: {"a": 1}}
    assert (finish.state, finish.reason, finish.exit_code) == (
        events_pb2.KILLED, "SIGTERM", 128 + signal.SIGTERM,
    )


def test_sigterm_chains_to_the_previous_handler(workdir):
    before = (
        "import signal\nseen = []\n"
        "signal.signal(signal.SIGTERM, lambda s, f: seen.append(s))\n"
    )
    done = run_script(workdir, """
        run.log({"a": 1})
        os.kill(os.getpid(), signal.SIGTERM)
        run.log({"a": 2})
        print("previous handler ran:", seen)
        lodestar.finish()
    """, before=before)
    assert done.returncode == 0, done.stderr
    assert f"previous handler ran: [{int(signal.SIGTERM)}]" in done.stdout
    stored, [finish] = read_run(workdir)
    assert stored == {0: {"a": 1}, 1: {"a": 2}}
    assert (finish.state, finish.reason) == (events_pb2.FINISHED, "after SIGTERM")


def test_sigint_raises_keyboard_interrupt_and_marks_killed(workdir):
    done = run_script(workdir, """
        run.log({"a": 1})
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(30)
    """)
    assert done.returncode == -signal.SIGINT  # how Python ends on Ctrl-C
    assert "KeyboardInterrupt" in done.stderr
    _, [finish] = read_run(workdir)
    assert (finish.state, finish.reason, finish.exit_code) == (
        events_pb2.KILLED, "SIGINT", 130,
    )


def test_signal_handlers_are_installed_only_from_the_main_thread(workdir):
    script = workdir / "thread.py"
    script.write_text(textwrap.dedent("""
        import os, signal, threading
        import lodestar
        before = signal.getsignal(signal.SIGTERM)
        def start():
            lodestar.init(project="t", mode="offline", dir=os.getcwd()).finish()
        worker = threading.Thread(target=start)
        worker.start(); worker.join()
        print(signal.getsignal(signal.SIGTERM) is before)
    """))
    done = subprocess.run([sys.executable, str(script)], cwd=workdir,
                          capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "True", done.stderr


def test_forked_children_warn_once_drop_and_never_hang(workdir):
    done = run_script(workdir, """
        import multiprocessing as mp

        def child(index):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                for i in range(100):
                    lodestar.log({"child": index})
                    run.log({"child": index})
            line = f"child warnings: {len(caught)} {str(caught[0].message)[:40]}\\n"
            os.write(1, line.encode())  # one write: children share stdout

        context = mp.get_context("fork")
        for step in range(50):
            run.log({"parent": step})
        workers = [context.Process(target=child, args=(i,)) for i in range(3)]
        for worker in workers:
            worker.start()
        for step in range(50, 100):
            run.log({"parent": step})
        for worker in workers:
            worker.join(30)
            assert worker.exitcode == 0, worker.exitcode
        pid = os.fork()
        if pid == 0:
            run.log({"forked": 1})
            lodestar.finish()
            sys.exit(0)  # atexit runs here and must do nothing
        os.waitpid(pid, 0)
        lodestar.finish()
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("child warnings: 1 log() was called in a process fo") == 3
    stored, finishes = read_run(workdir)
    assert stored == {step: {"parent": step} for step in range(100)}
    assert [f.state for f in finishes] == [events_pb2.FINISHED]


def test_forked_child_can_start_a_run_of_its_own(workdir):
    done = run_script(workdir, """
        pid = os.fork()
        if pid == 0:
            child = lodestar.init(project="child", mode="offline",
                                  dir=os.path.join(os.getcwd(), "kid"))
            child.log({"mine": 1})
            child.finish()
            os._exit(0)
        os.waitpid(pid, 0)
        run.log({"parent": 1})
        lodestar.finish()
    """)
    assert done.returncode == 0, done.stderr
    stored, _ = read_run(workdir)
    assert stored == {0: {"parent": 1}}
    [child_wal] = (workdir / "kid" / "lodestar").glob("offline-run-*/*.wal")
    _, child_events = wal.read_all(child_wal)
    assert child_events[0].HasField("run_start")
    assert json.loads(child_events[0].run_start.config_json) == {}


@pytest.mark.parametrize("mode", ["offline", "disabled"])
def test_offline_and_disabled_start_no_process(workdir, mode):
    done = run_script(workdir, f"""
        import psutil
        other = lodestar.init(project="p", mode="{mode}", reinit=True)
        other.log({{"a": 1}})
        print(len(psutil.Process().children(recursive=True)))
        lodestar.finish()
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0"
