"""System metrics: what the machine and the training process tree are doing.

A `SystemSampler` is polled by the run's writer thread (no thread of its own)
and, every ``system_metrics_interval`` seconds, turns one sample into a
`SystemMetrics` event of the WAL, so system metrics get their event ids from
the WAL like every other event and work offline too.

Keys of one sample (counters are since the run started):

- ``cpu.percent`` (the machine), ``cpu.process_percent`` (this process and
  its children, 100 per busy core), ``cpu.process_threads``
- ``memory.percent``, ``memory.used_bytes``, ``memory.available_bytes``,
  ``memory.process_rss_bytes`` (the process tree), ``memory.process_percent``
- ``disk.percent``, ``disk.used_bytes`` (the file system of the run
  directory), ``disk.read_bytes``, ``disk.write_bytes``
- ``network.sent_bytes``, ``network.recv_bytes``
- per NVIDIA GPU ``i``, through NVML when ``nvidia-ml-py`` and a driver are
  there: ``gpu.i.utilization_percent``, ``gpu.i.memory_utilization_percent``,
  ``gpu.i.memory_used_bytes``, ``gpu.i.memory_total_bytes``,
  ``gpu.i.memory_allocated_percent``, ``gpu.i.process_memory_bytes``,
  ``gpu.i.temperature_c``, ``gpu.i.power_w``, ``gpu.i.power_limit_w``,
  ``gpu.i.clock_sm_mhz``, ``gpu.i.clock_memory_mhz``

A machine without a GPU, NVML or one of the counters simply has fewer keys.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import psutil

from ._proto import events_pb2

logger = logging.getLogger(__name__)

Sample = dict[str, float]
_Reader = Callable[[], Sample]


class SystemSampler:
    """Samples the machine every `interval` seconds for one process tree."""

    def __init__(self, interval: float, pid: int, disk_path: str) -> None:
        self.interval = interval
        self._pid = pid
        self._disk_path = disk_path
        self._lock = threading.Lock()
        self._next = time.monotonic() + interval
        self._procs: dict[int, psutil.Process] = {}
        self._gpus = GpuReader(pid)
        self._start_disk = _disk_io()
        self._start_net = _net_io()
        psutil.cpu_percent(interval=None)  # the first call only sets a baseline
        self._tree_cpu()

    def poll(self, now: float) -> list[tuple[str, Any]]:
        """The events due at monotonic time `now` (called by the writer)."""
        if now < self._next:
            return []
        self._next = now + self.interval
        return [("system", self.event())]

    def event(self) -> events_pb2.SystemMetrics:
        """One sample now, as a `SystemMetrics` event body."""
        with self._lock:
            timestamp = time.time()
            sample = self.sample()
        message = events_pb2.SystemMetrics(timestamps=[timestamp])
        for key, value in sorted(sample.items()):
            message.columns.add(key=key, kind=events_pb2.FLOAT, f64=[value])
        return message

    def sample(self) -> Sample:
        """Every metric this machine offers, by key."""
        sample: Sample = {}
        readers: list[_Reader] = [
            self._cpu, self._memory, self._disk, self._network, self._gpus.read
        ]
        for read in readers:
            try:
                sample.update(read())
            except (psutil.Error, OSError) as exc:
                logger.debug("a system metric could not be read: %s", exc)
        return sample

    def close(self) -> None:
        self._gpus.close()

    # ---- readers -----------------------------------------------------------

    def _cpu(self) -> Sample:
        percent, threads = self._tree_cpu()
        return {
            "cpu.percent": psutil.cpu_percent(interval=None),
            "cpu.process_percent": percent,
            "cpu.process_threads": float(threads),
        }

    def _tree_cpu(self) -> tuple[float, int]:
        percent, threads = 0.0, 0
        for proc in self._tree():
            try:
                with proc.oneshot():
                    percent += proc.cpu_percent(interval=None)
                    threads += proc.num_threads()
            except psutil.Error:
                continue
        return percent, threads

    def _tree(self) -> list[psutil.Process]:
        """The process and its children, each kept so CPU deltas add up."""
        try:
            root = self._procs.get(self._pid) or psutil.Process(self._pid)
            current = [root, *root.children(recursive=True)]
        except psutil.Error:
            return []
        kept = {proc.pid: self._procs.get(proc.pid, proc) for proc in current}
        self._procs = kept
        return list(kept.values())

    def _memory(self) -> Sample:
        system = psutil.virtual_memory()
        rss = 0
        for proc in self._procs.values():
            try:
                rss += proc.memory_info().rss
            except psutil.Error:
                continue
        return {
            "memory.percent": float(system.percent),
            "memory.used_bytes": float(system.used),
            "memory.available_bytes": float(system.available),
            "memory.process_rss_bytes": float(rss),
            "memory.process_percent": 100.0 * rss / system.total,
        }

    def _disk(self) -> Sample:
        usage = psutil.disk_usage(self._disk_path)
        sample = {
            "disk.percent": float(usage.percent),
            "disk.used_bytes": float(usage.used),
        }
        now, start = _disk_io(), self._start_disk
        if now is not None and start is not None:
            sample["disk.read_bytes"] = float(now[0] - start[0])
            sample["disk.write_bytes"] = float(now[1] - start[1])
        return sample

    def _network(self) -> Sample:
        now, start = _net_io(), self._start_net
        if now is None or start is None:
            return {}
        return {
            "network.sent_bytes": float(now[0] - start[0]),
            "network.recv_bytes": float(now[1] - start[1]),
        }


def _disk_io() -> tuple[int, int] | None:
    counters = psutil.disk_io_counters()
    return (counters.read_bytes, counters.write_bytes) if counters else None


def _net_io() -> tuple[int, int] | None:
    counters = psutil.net_io_counters()
    return (counters.bytes_sent, counters.bytes_recv) if counters else None


class GpuReader:
    """NVIDIA GPUs through NVML, when ``nvidia-ml-py`` and a driver are there."""

    def __init__(self, pid: int) -> None:
        self._pid = pid
        self._nvml: Any = None
        self._handles: list[Any] = []
        self._tried = False

    def read(self) -> Sample:
        if not self._tried:
            self._tried = True
            self._open()
        sample: Sample = {}
        for index, handle in enumerate(self._handles):
            sample.update(self._device(index, handle))
        return sample

    def _open(self) -> None:
        try:
            import pynvml  # from nvidia-ml-py: optional

            pynvml.nvmlInit()
            count = pynvml.nvmlDeviceGetCount()
            self._handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
        except Exception as exc:  # noqa: BLE001 - no GPU or no NVML is normal
            logger.debug("no NVIDIA GPU metrics: %s", exc)
            self._handles = []
            return
        self._nvml = pynvml

    def _device(self, index: int, handle: Any) -> Sample:
        prefix = f"gpu.{index}."
        sample: Sample = {}
        for name, read in _GPU_READERS:
            try:
                sample[prefix + name] = float(read(self._nvml, handle))
            except Exception as exc:  # noqa: BLE001 - a device may lack a counter
                logger.debug("gpu %d: %s unavailable: %s", index, name, exc)
        sample.update(self._allocated(prefix, handle))
        return sample

    def _allocated(self, prefix: str, handle: Any) -> Sample:
        nvml = self._nvml
        try:
            memory = nvml.nvmlDeviceGetMemoryInfo(handle)
            procs = nvml.nvmlDeviceGetComputeRunningProcesses(handle)
        except Exception as exc:  # noqa: BLE001 - see _device
            logger.debug("gpu memory unavailable: %s", exc)
            return {}
        tree = _tree_pids(self._pid)
        mine = sum(p.usedGpuMemory or 0 for p in procs if p.pid in tree)
        return {
            prefix + "memory_allocated_percent": 100.0 * memory.used / memory.total,
            prefix + "process_memory_bytes": float(mine),
        }

    def close(self) -> None:
        if self._nvml is not None:
            try:
                self._nvml.nvmlShutdown()
            except Exception as exc:  # noqa: BLE001 - shutting down anyway
                logger.debug("nvmlShutdown: %s", exc)
            self._nvml = None


def _tree_pids(pid: int) -> set[int]:
    try:
        root = psutil.Process(pid)
        return {pid, *(child.pid for child in root.children(recursive=True))}
    except psutil.Error:
        return {pid}


_GPU_READERS: list[tuple[str, Callable[[Any, Any], float]]] = [
    ("utilization_percent", lambda n, h: n.nvmlDeviceGetUtilizationRates(h).gpu),
    ("memory_utilization_percent",
     lambda n, h: n.nvmlDeviceGetUtilizationRates(h).memory),
    ("memory_used_bytes", lambda n, h: n.nvmlDeviceGetMemoryInfo(h).used),
    ("memory_total_bytes", lambda n, h: n.nvmlDeviceGetMemoryInfo(h).total),
    ("temperature_c", lambda n, h: n.nvmlDeviceGetTemperature(h, 0)),
    ("power_w", lambda n, h: n.nvmlDeviceGetPowerUsage(h) / 1000.0),
    ("power_limit_w", lambda n, h: n.nvmlDeviceGetEnforcedPowerLimit(h) / 1000.0),
    ("clock_sm_mhz", lambda n, h: n.nvmlDeviceGetClockInfo(h, 1)),
    ("clock_memory_mhz", lambda n, h: n.nvmlDeviceGetClockInfo(h, 2)),
]
