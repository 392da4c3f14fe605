"""What a run records without being asked: system metrics, console, code."""
# ruff: noqa: F811 - the `workdir` fixture is imported from sdk_support

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import lodestar
import pytest
from lodestar import console, wal
from sdk_support import bodies, events, offline, workdir  # noqa: F401

BASE_KEYS = {
    "cpu.percent", "cpu.process_percent", "cpu.process_threads",
    "memory.percent", "memory.used_bytes", "memory.available_bytes",
    "memory.process_rss_bytes", "memory.process_percent",
    "disk.percent", "disk.used_bytes", "disk.read_bytes", "disk.write_bytes",
    "network.sent_bytes", "network.recv_bytes",
}
QUIET = {"console": "off", "system_metrics": False}


def _system_keys(run: lodestar.Run) -> list[set[str]]:
    return [{c.key for c in body.columns} for body in bodies(run, "system")]


def test_system_metrics_have_the_expected_keys(workdir):
    run = offline(workdir, settings={"system_metrics_interval": 0.05,
                                     "console": "off"})
    run.log({"x": 1})
    run.finish()
    samples = _system_keys(run)
    assert samples, "no SystemMetrics event"
    for keys in samples:
        assert BASE_KEYS <= keys
        assert all(key.startswith("gpu.") for key in keys - BASE_KEYS)
    body = bodies(run, "system")[-1]
    values = {c.key: c.f64[0] for c in body.columns}
    assert len(body.timestamps) == 1
    assert values["memory.process_rss_bytes"] > 1 << 20
    assert 0 <= values["memory.percent"] <= 100


def test_system_metrics_switch_off(workdir):
    run = offline(workdir, settings=QUIET)
    run.finish()
    assert _system_keys(run) == []


def test_system_metrics_come_from_the_environment(workdir, monkeypatch):
    monkeypatch.setenv("LODESTAR_SYSTEM_METRICS", "false")
    run = offline(workdir, settings={"console": "off"})
    run.finish()
    assert _system_keys(run) == []


# ---- console -----------------------------------------------------------------


def test_line_assembler_keeps_what_a_terminal_shows():
    lines = console.LineAssembler()
    assert lines.feed("a\nb") == ["a"]
    assert lines.feed("c\r") == []
    assert lines.feed("XY\n") == ["XY"]
    assert lines.feed(" 10%\r 50%\r100%\n") == ["100%"]
    assert lines.feed("\x1b[31mred\x1b[0m\r\n") == ["red"]
    assert lines.feed("long line\rshort") == []
    assert lines.flush() == ["shortline"]
    assert lines.feed("\r   \r") == []
    assert lines.flush() == []


CONSOLE_SCRIPT = """
    import os, subprocess, sys, time
    import lodestar
    from tqdm import tqdm

    run = lodestar.init(mode="offline", project="console",
                        settings={"system_metrics": False})
    print("before the bar")
    for _ in tqdm(range(30), mininterval=0, ncols=60):
        pass
    print("to stderr", file=sys.stderr)
    sys.stdout.flush()
    os.write(1, b"written to fd 1\\n")
    subprocess.run([sys.executable, "-c", "print('from a child')"], check=True)
    print("last line, no newline", end="")
    run.finish()
"""


def _run_script(work: Path, body: str, **env: str) -> subprocess.CompletedProcess:
    script = work / "train.py"
    script.write_text(textwrap.dedent(body))
    return subprocess.run(
        [sys.executable, str(script)], cwd=work, capture_output=True, text=True,
        timeout=120, env={**os.environ, **env},
    )


def _run_dir(work: Path) -> Path:
    [found] = (work / "lodestar").glob("offline-run-*")
    return found


def _wal_events(run_dir: Path) -> list:
    [path] = run_dir.glob("*.wal")
    return wal.read_all(path)[1]


def test_console_capture_keeps_a_tqdm_bar_as_its_last_state(workdir):
    done = _run_script(workdir, CONSOLE_SCRIPT)
    assert done.returncode == 0, done.stderr
    run_dir = _run_dir(workdir)
    log = (run_dir / "files" / "output.log").read_text().splitlines()
    lines = [
        (line.stderr, line.text)
        for event in _wal_events(run_dir) if event.HasField("console")
        for line in event.console.lines
    ]
    assert [text for _, text in lines] == log
    # each stream keeps its order; the two pipes may interleave either way
    assert [text for err, text in lines if not err] == [
        "before the bar", "written to fd 1", "from a child", "last line, no newline",
    ]
    bar, last = [text for err, text in lines if err]
    assert bar.startswith("100%|") and "| 30/30 [" in bar
    assert last == "to stderr"
    # the terminal still got every redraw of the bar, carriage returns included
    assert "before the bar\nwritten to fd 1\nfrom a child\n" in done.stdout


def test_console_capture_passes_every_redraw_through(workdir):
    script = workdir / "train.py"
    script.write_text(textwrap.dedent(CONSOLE_SCRIPT))
    done = subprocess.run([sys.executable, str(script)], cwd=workdir,
                          capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count(b"\r") >= 30  # what the terminal gets is untouched


def test_console_capture_stages_output_log(workdir):
    done = _run_script(workdir, CONSOLE_SCRIPT)
    assert done.returncode == 0, done.stderr
    found = [e.file.path for e in _wal_events(_run_dir(workdir)) if e.HasField("file")]
    assert "output.log" in found
    kinds = [e.WhichOneof("body") for e in _wal_events(_run_dir(workdir))]
    assert kinds.index("finish") == len(kinds) - 1


def test_console_redirect_keeps_a_terminal_a_terminal(workdir):
    import pty

    master, slave = pty.openpty()
    script = workdir / "term.py"  # not tty.py: that would shadow the module
    script.write_text(textwrap.dedent("""
        import sys, lodestar
        run = lodestar.init(mode="offline", project="tty",
                            settings={"system_metrics": False})
        print("isatty", sys.stdout.isatty())
        run.finish()
    """))
    proc = subprocess.Popen([sys.executable, str(script)], cwd=workdir,
                            stdout=slave, stderr=slave)
    os.close(slave)
    assert proc.wait(timeout=60) == 0
    log = (_run_dir(workdir) / "files" / "output.log").read_text()
    assert log == "isatty True\n"
    os.close(master)


def test_console_wrap_captures_print_in_process(workdir, capsys):
    run = offline(workdir, settings={"console": "wrap", "system_metrics": False})
    print("wrapped line")
    print("progress 1\rprogress 2", file=sys.stderr)
    run.finish()
    assert not isinstance(sys.stdout, console._TeeStream)
    lines = [(ln.stderr, ln.text) for body in bodies(run, "console")
             for ln in body.lines]
    assert lines == [(False, "wrapped line"), (True, "progress 2")]
    assert capsys.readouterr().out == "wrapped line\n"


def test_console_off_captures_nothing(workdir):
    run = offline(workdir, settings={"console": "off", "system_metrics": False})
    print("not kept")
    run.finish()
    assert bodies(run, "console") == []
    assert not (Path(run.dir) / "output.log").exists()


def test_unknown_console_mode_is_a_warning_not_a_crash(workdir, caplog):
    run = offline(workdir, settings={"console": "sideways", "system_metrics": False})
    run.finish()
    assert "console='sideways' is not one of auto, redirect, wrap, off" in caplog.text


# ---- code --------------------------------------------------------------------


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL":
                        "t@example.invalid", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@example.invalid"})


CODE_SCRIPT = """
    import lodestar
    run = lodestar.init(mode="offline", project="code",
                        settings={"system_metrics": False, "console": "off"})
    run.finish()
"""


def _git_repo(work: Path) -> Path:
    repo = work / "repo"
    (repo / "src").mkdir(parents=True)
    (repo / "src" / "train.py").write_text(textwrap.dedent(CODE_SCRIPT))
    (repo / "notes.txt").write_text("first\n")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "remote", "add", "origin", "https://user:token@example.invalid/r.git")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "one")
    (repo / "notes.txt").write_text("second\n")
    return repo


def _run_in_repo(repo: Path, **env: str) -> Path:
    done = subprocess.run(
        [sys.executable, "src/train.py", "--lr", "0.1"], cwd=repo,
        capture_output=True, text=True, timeout=120, env={**os.environ, **env},
    )
    assert done.returncode == 0, done.stderr
    [run_dir] = (repo / "lodestar").glob("offline-run-*")
    return run_dir


def test_code_git_diff_and_requirements_are_stored(workdir):
    repo = _git_repo(workdir)
    run_dir = _run_in_repo(repo)
    files = run_dir / "files"
    assert (files / "code" / "src" / "train.py").read_text() == textwrap.dedent(
        CODE_SCRIPT)
    patch = (files / "diff.patch").read_text()
    assert "-first\n+second\n" in patch
    requirements = (files / "requirements.txt").read_text().splitlines()
    assert any(line.startswith("psutil==") for line in requirements)
    meta = json.loads((files / "lodestar-metadata.json").read_text())
    assert meta["git"]["branch"] == "main"
    assert meta["git"]["remote"] == "https://example.invalid/r.git"
    assert meta["git"]["dirty"] is True
    assert meta["command"].endswith("src/train.py --lr 0.1")
    staged = {e.file.path for e in _wal_events(run_dir) if e.HasField("file")}
    assert {"code/src/train.py", "diff.patch", "requirements.txt"} <= staged


def test_disable_code_keeps_git_metadata_only(workdir):
    run_dir = _run_in_repo(_git_repo(workdir), LODESTAR_DISABLE_CODE="true")
    files = run_dir / "files"
    assert not (files / "code").exists() and not (files / "diff.patch").exists()
    assert (files / "requirements.txt").exists()
    assert "git" in json.loads((files / "lodestar-metadata.json").read_text())


def test_disable_git_drops_git_metadata_and_patch(workdir):
    run_dir = _run_in_repo(_git_repo(workdir), LODESTAR_DISABLE_GIT="1")
    files = run_dir / "files"
    assert (files / "code" / "src" / "train.py").exists()
    assert not (files / "diff.patch").exists()
    assert "git" not in json.loads((files / "lodestar-metadata.json").read_text())


# ---- environment variables ---------------------------------------------------


def test_run_fields_come_from_environment_variables(workdir, monkeypatch):
    for name, value in {
        "PROJECT": "envproj", "ENTITY": "team", "NAME": "env-name",
        "NOTES": "from env", "TAGS": "a, b,c", "RUN_GROUP": "g1",
        "JOB_TYPE": "eval", "DIR": str(workdir / "elsewhere"), "SILENT": "true",
    }.items():
        monkeypatch.setenv("LODESTAR_" + name, value)
    run = lodestar.init(mode="offline", settings=QUIET)
    run.finish()
    assert (run.project, run.entity, run.name, run.notes) == (
        "envproj", "team", "env-name", "from env")
    assert (run.tags, run.group, run.job_type) == (("a", "b", "c"), "g1", "eval")
    assert Path(run.run_dir).parent == workdir / "elsewhere" / "lodestar"
    [start] = bodies(run, "run_start")
    assert (start.name, start.group, start.job_type, list(start.tags)) == (
        "env-name", "g1", "eval", ["a", "b", "c"])


def test_arguments_beat_environment_variables(workdir, monkeypatch):
    monkeypatch.setenv("LODESTAR_NAME", "env-name")
    monkeypatch.setenv("LODESTAR_TAGS", "x")
    run = offline(workdir, name="arg-name", tags=[], settings=QUIET)
    run.finish()
    assert (run.name, run.tags) == ("arg-name", ())


@pytest.mark.parametrize("value", ["0", "false"])
def test_silent_parses_as_false(workdir, monkeypatch, value):
    monkeypatch.setenv("LODESTAR_SILENT", value)
    assert lodestar.Settings().silent is False
    from lodestar.settings import load_settings

    assert load_settings().silent is False
    assert len(events(offline(workdir, settings=QUIET))) >= 1


class _FakeNvml:
    """Stands in for pynvml on a machine without a GPU: two devices."""

    class _Util:
        gpu, memory = 87, 40

    class _Memory:
        used, total = 30 << 30, 80 << 30

    class _Proc:
        def __init__(self, pid: int, used: int) -> None:
            self.pid, self.usedGpuMemory = pid, used

    def nvmlDeviceGetUtilizationRates(self, handle):
        return self._Util()

    def nvmlDeviceGetMemoryInfo(self, handle):
        return self._Memory()

    def nvmlDeviceGetTemperature(self, handle, sensor):
        return 61

    def nvmlDeviceGetPowerUsage(self, handle):
        return 312_500

    def nvmlDeviceGetEnforcedPowerLimit(self, handle):
        return 700_000

    def nvmlDeviceGetClockInfo(self, handle, clock):
        return {1: 1980, 2: 2619}[clock]

    def nvmlDeviceGetComputeRunningProcesses(self, handle):
        return [self._Proc(os.getpid(), 5 << 30), self._Proc(1, 7 << 30)]


def test_gpu_metrics_use_nvml_names_and_units():
    from lodestar.system_metrics import GpuReader

    reader = GpuReader(os.getpid())
    reader._tried, reader._nvml, reader._handles = True, _FakeNvml(), ["h0", "h1"]
    sample = reader.read()
    assert {k: v for k, v in sample.items() if k.startswith("gpu.1.")} == {
        "gpu.1.utilization_percent": 87.0,
        "gpu.1.memory_utilization_percent": 40.0,
        "gpu.1.memory_used_bytes": float(30 << 30),
        "gpu.1.memory_total_bytes": float(80 << 30),
        "gpu.1.memory_allocated_percent": 37.5,
        "gpu.1.process_memory_bytes": float(5 << 30),
        "gpu.1.temperature_c": 61.0,
        "gpu.1.power_w": 312.5,
        "gpu.1.power_limit_w": 700.0,
        "gpu.1.clock_sm_mhz": 1980.0,
        "gpu.1.clock_memory_mhz": 2619.0,
    }
    assert len(sample) == 22


def test_no_nvml_means_no_gpu_keys_and_no_error():
    from lodestar.system_metrics import GpuReader

    assert GpuReader(os.getpid()).read() == {}  # no nvidia-ml-py or driver here
