"""A large file through the whole path with bounded memory: logged by a
training process, uploaded by its agent through signed URLs, checked by the
artifacts service, downloaded by another run's helper. Each process's peak
resident memory is measured and printed; none may come near the file size.

300 MB runs in ``make test``; 2 GB runs in ``make test-huge`` (``-m huge``).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from pathlib import Path

import pytest
from artifacts_support import peak_rss_mb, run_script, start_script, write_random
from lodestar_server.launcher import control

pytestmark = pytest.mark.timeout(1800)

LIMIT_MB = 250.0

# VmHWM, not ru_maxrss: after fork and exec, ru_maxrss keeps the forking
# parent's peak (here pytest's); the helper's figure is bounded by its
# parent's and its own.
PEAK = """
    def peak_mb():
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
"""

PRODUCER = PEAK + """
    import lodestar
    run = lodestar.init(project="large-files")
    art = lodestar.Artifact("big", "blob")
    art.add_file("{path}", name="big.bin")
    run.log_artifact(art)
    art.wait(1500)
    print(art.version, peak_mb())
    run.finish()
"""

CONSUMER = PEAK + """
    import hashlib, resource, lodestar
    run = lodestar.init(project="large-files")
    art = run.use_artifact("big:{version}")
    root = art.download("got")
    digest = hashlib.sha256()
    with open("got/big.bin", "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    mine = peak_mb()
    helper = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
    print(digest.hexdigest(), mine, helper)
    run.finish()
"""


class _PeakWatch:
    """Samples a process's high-water mark until it exits or is stopped."""

    def __init__(self, find_pid) -> None:
        self.peak = 0.0
        self._find_pid = find_pid
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            pid = self._find_pid()
            if pid:
                self.peak = max(self.peak, peak_rss_mb(pid))
            time.sleep(0.05)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join(5)
        return self.peak


def _agent_pid(folder: Path) -> int | None:
    for status in (folder / "lodestar").glob("run-*/agent.json"):
        try:
            return int(json.loads(status.read_text()).get("pid") or 0) or None
        except (OSError, ValueError):
            return None
    return None


def _round_trip(platform, tmp_path: Path, size: int, capsys) -> None:
    source = tmp_path / "big.bin"
    write_random(source, size, seed=size)
    expected = _sha256(source)
    service = control.child_pid(platform.data_dir, "artifacts")
    producer_dir = tmp_path / "producer"
    started = time.monotonic()
    agent = _PeakWatch(lambda: _agent_pid(producer_dir))
    proc = start_script(platform, producer_dir, PRODUCER.replace("{path}", str(source)))
    out, err = proc.communicate(timeout=1500)
    agent_peak = agent.stop()
    assert proc.returncode == 0, err[-3000:]
    upload_s = time.monotonic() - started
    version, producer_peak = out.split()
    started = time.monotonic()
    consumed = run_script(platform, tmp_path / "consumer",
                          CONSUMER.replace("{version}", version))
    download_s = time.monotonic() - started
    digest, consumer_peak, helper_peak = consumed.split()
    service_peak = peak_rss_mb(service) if service else 0.0

    mb = size / 1e6
    peaks = {"training process (log)": float(producer_peak), "agent": agent_peak,
             "artifacts service": service_peak,
             "training process (use)": float(consumer_peak),
             "download helper": float(helper_peak)}
    with capsys.disabled():
        print(f"\n{mb:.0f} MB file: logged and uploaded in {upload_s:.1f} s, "
              f"downloaded in {download_s:.1f} s; peak RSS (MB): "
              + ", ".join(f"{k} {v:.0f}" for k, v in peaks.items()))
    assert digest == expected
    for name, peak in peaks.items():
        assert 0 < peak < LIMIT_MB, f"{name} peaked at {peak:.0f} MB"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def test_300_mb_file_moves_with_bounded_memory(local_platform, tmp_path, capsys):
    _round_trip(local_platform, tmp_path, 300 * 1000 * 1000, capsys)


@pytest.mark.huge
def test_2_gb_file_moves_with_bounded_memory(local_platform, tmp_path, capsys):
    _round_trip(local_platform, tmp_path, 2 * 1000 * 1000 * 1000, capsys)
