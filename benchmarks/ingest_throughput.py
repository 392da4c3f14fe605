"""Metric points per second from `log()` to queryable, on the local platform.

Starts a local platform in a temporary directory, runs a training process
that logs ROWS rows of 10 float scalars, and waits until the last step can be
read back through the query API. Prints points/s end to end and the peak
resident memory of every process involved (sampled every 50 ms; the training
process reports its own peak).

    python benchmarks/ingest_throughput.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import json
import netrc
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import lodestar
import psutil
from lodestar_server.launcher import control

TRAIN = """
import json, resource, sys, time, lodestar
rows = int(sys.argv[1])
run = lodestar.init(project="bench-ingest", id=sys.argv[2])
keys = [f"metric_{i}" for i in range(10)]
started = time.time()
for step in range(rows):
    run.log({key: step * 0.001 + i for i, key in enumerate(keys)})
logged = time.time()
run.finish()
peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"started": started, "logged": logged, "finished": time.time(),
                  "peak_mb": peak_kb / 1024}))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PeakMemory(threading.Thread):
    """Samples the RSS of the platform's processes and of any agent."""

    def __init__(self, supervisor_pid: int) -> None:
        super().__init__(daemon=True)
        self.supervisor = psutil.Process(supervisor_pid)
        self.peaks: dict[str, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.05):
            for proc in self._processes():
                try:
                    name = self._label(proc)
                    rss = proc.memory_info().rss / 2**20
                except psutil.Error:
                    continue
                self.peaks[name] = max(self.peaks.get(name, 0.0), rss)

    def _processes(self) -> list[psutil.Process]:
        found = [self.supervisor, *self.supervisor.children(recursive=True)]
        for proc in psutil.process_iter(["cmdline"]):
            if "lodestar.agent" in " ".join(proc.info["cmdline"] or []):
                found.append(proc)
        return found

    @staticmethod
    def _label(proc: psutil.Process) -> str:
        cmdline = " ".join(proc.cmdline())
        for part in ("lodestar.agent", "launcher.supervisor"):
            if part in cmdline:
                return part.split(".")[-1]
        for name in ("ingest", "query", "artifacts", "alerts"):
            if f"lodestar_server.{name}" in cmdline:
                return name
        return Path(proc.exe()).name


def wait_queryable(api: lodestar.Api, path: str, last_step: int) -> float:
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        try:
            rows = api.run(path).history(samples=4, keys=["metric_9"], pandas=False)
        except lodestar.errors.ApiError:
            rows = []
        if rows and rows[-1]["_step"] == last_step:
            return time.time()
        time.sleep(0.02)
    raise SystemExit(f"step {last_step} of {path} was not queryable within 600 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="lodestar-bench-") as tmp:
        root = Path(tmp)
        home = root / "home"
        home.mkdir()
        env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / "c")}
        env = {k: v for k, v in env.items() if not k.startswith("LODESTAR_")}
        config = control.start_detached(
            root / "data", port=free_port(), env=env, stop_with_caller=True
        )
        try:
            measure(config, root, env, home, args.rows)
        finally:
            control.stop(root / "data")


def measure(config, root: Path, env: dict, home: Path, rows: int) -> None:
    base_url = config.public_url
    host = base_url.split("://", 1)[1].rstrip("/")
    api_key = netrc.netrc(str(home / ".netrc")).authenticators(host)[2]
    env = {**env, "LODESTAR_BASE_URL": base_url, "LODESTAR_API_KEY": api_key}
    supervisor = control.read_status(root / "data")
    sampler = PeakMemory(psutil.Process(supervisor[0].pid).ppid())
    sampler.start()

    script = root / "train.py"
    script.write_text(TRAIN)
    done = subprocess.run(
        [sys.executable, str(script), str(rows), "bench-1"],
        cwd=root, env=env, capture_output=True, text=True, check=True,
    )
    times = json.loads(done.stdout.strip().splitlines()[-1])
    api = lodestar.Api(overrides={"base_url": base_url}, api_key=api_key)
    path = f"{api.default_entity}/bench-ingest/bench-1"
    queryable = wait_queryable(api, path, rows - 1)
    sampler.stop.set()
    report(rows, times, queryable, sampler.peaks)


def report(rows: int, times: dict, queryable: float, peaks: dict) -> None:
    points = rows * 10
    elapsed = queryable - times["started"]
    print(f"rows logged:                 {rows:,} x 10 scalars = {points:,} points")
    print(f"log() loop:                  {times['logged'] - times['started']:.2f} s")
    print(f"finish() returned after:     {times['finished'] - times['started']:.2f} s")
    print(f"queryable after:             {elapsed:.2f} s")
    print(f"end to end:                  {points / elapsed:,.0f} points/s "
          f"(target >= 500,000)")
    print(f"peak RSS training process:   {times['peak_mb']:.0f} MB")
    for name, peak in sorted(peaks.items()):
        print(f"peak RSS {name + ':':<20} {peak:.0f} MB")


if __name__ == "__main__":
    main()
