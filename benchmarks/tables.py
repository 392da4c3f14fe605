"""Time to log a 1,000,000-row table and to fetch a sorted, filtered page of it.

Starts a local platform in a temporary directory, runs a training process
that builds a table of ROWS rows (an int, a float, a label, a text) and logs
it, waits until every row is stored, then asks the server for pages sorted by
the float and filtered on the label and the float, and for one page from
deep in the table. Prints each figure.

    python benchmarks/tables.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import json
import netrc
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import lodestar
from lodestar_server.launcher import control

TRAIN = """
import json, resource, sys, time, lodestar
rows = int(sys.argv[1])
labels = ["cat", "dog", "bird", "fish"]
run = lodestar.init(project="bench-tables", id=sys.argv[2])
started = time.time()
table = lodestar.Table(columns=["i", "score", "label", "note"],
                       data=[[i, (i * 7919 % 1000003) / 1000003, labels[i % 4],
                              f"row {i}"] for i in range(rows)])
built = time.time()
run.log({"big": table})
logged = time.time()
run.finish()
peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"started": started, "built": built, "logged": logged,
                  "finished": time.time(), "peak_mb": peak_kb / 1024}))
"""

FILTERS = [json.dumps(["label", "==", "dog"]), json.dumps(["score", ">", 0.5])]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(base_url: str, api_key: str, path: str, params: dict) -> dict:
    query = urllib.parse.urlencode(params, doseq=True)
    request = urllib.request.Request(f"{base_url}{path}?{query}")
    request.add_header("Authorization", f"Bearer {api_key}")
    with urllib.request.urlopen(request, timeout=600) as response:
        return json.loads(response.read())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
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
            measure(config.public_url, root, env, home, args.rows)
        finally:
            control.stop(root / "data")


def measure(base_url: str, root: Path, env: dict, home: Path, rows: int) -> None:
    host = base_url.split("://", 1)[1].rstrip("/")
    api_key = netrc.netrc(str(home / ".netrc")).authenticators(host)[2]
    env = {**env, "LODESTAR_BASE_URL": base_url, "LODESTAR_API_KEY": api_key}
    script = root / "train.py"
    script.write_text(TRAIN)
    done = subprocess.run([sys.executable, str(script), str(rows), "bench-1"],
                          cwd=root, env=env, capture_output=True, text=True,
                          check=True)
    times = json.loads(done.stdout.strip().splitlines()[-1])
    api = lodestar.Api(overrides={"base_url": base_url}, api_key=api_key)
    path = f"{api.default_entity}/bench-tables/bench-1"
    base = wait_stored(api, base_url, api_key, path, rows)
    report(rows, times, *fetch_pages(base_url, api_key, base, rows))


def wait_stored(api: lodestar.Api, base_url: str, api_key: str, path: str,
                rows: int) -> str:
    deadline = time.monotonic() + 1200
    while time.monotonic() < deadline:
        try:
            table_id = api.run(path).summary["big"]["table_id"]
            base = f"/api/v1/runs/{path}/tables/{table_id}"
            if get(base_url, api_key, base, {})["stored_rows"] == rows:
                return base
        except (lodestar.errors.ApiError, KeyError, urllib.error.HTTPError):
            pass
        time.sleep(0.2)
    raise SystemExit(f"{rows} rows of {path} were not stored within 1200 s")


def fetch_pages(base_url: str, api_key: str, base: str, rows: int
                ) -> tuple[float, list[float], list[float], int]:
    stored = time.time()
    sorted_filtered, deep = [], []
    total = 0
    for _ in range(5):
        started = time.perf_counter()
        page = get(base_url, api_key, base + "/rows",
                   {"order": "-score", "filter": FILTERS, "limit": 100})
        sorted_filtered.append(time.perf_counter() - started)
        total = page["total"]
        started = time.perf_counter()
        get(base_url, api_key, base + "/rows", {"offset": rows // 2, "limit": 100})
        deep.append(time.perf_counter() - started)
    return stored, sorted_filtered, deep, total


def report(rows: int, times: dict, stored: float, sorted_filtered: list[float],
           deep: list[float], matches: int) -> None:
    print(f"table:                       {rows:,} rows x 4 columns")
    print(f"build the Table:             {times['built'] - times['started']:.2f} s")
    print(f"log() call:                  {times['logged'] - times['built']:.2f} s")
    print(f"finish() returned after:     {times['finished'] - times['built']:.2f} s "
          "(from log())")
    print(f"every row stored after:      {stored - times['built']:.2f} s "
          "(from log())")
    print(f"sorted, filtered page (100 of {matches:,} matches): median "
          f"{statistics.median(sorted_filtered) * 1000:.0f} ms, "
          f"first {sorted_filtered[0] * 1000:.0f} ms")
    print(f"page at offset {rows // 2:,} (logged order): median "
          f"{statistics.median(deep) * 1000:.0f} ms")
    print(f"peak RSS training process:   {times['peak_mb']:.0f} MB")


if __name__ == "__main__":
    main()
