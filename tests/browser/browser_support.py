"""Helpers of the browser tests: the platform as they see it, waits, pictures."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

HERE = Path(__file__).parent
ARTIFACTS = HERE.parent.parent / "test-artifacts"
DEADLINE_S = 60.0


def wait_for(
    predicate: Callable[[], Any], what: str, timeout: float = DEADLINE_S
) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


class Dashboard:
    """The platform as the browser tests see it: URL, key, API reads, runs."""

    def __init__(self, platform: Any, project: str) -> None:
        self.platform = platform
        self.base_url = platform.base_url.rstrip("/")
        self.api_key = platform.api_key
        self.project = project
        self.entity = self.get("/api/v1/viewer")["default_entity"]

    def get(self, path: str) -> Any:
        request = urllib.request.Request(
            self.base_url + path, headers={"Authorization": f"Bearer {self.api_key}"}
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())

    def log(self, specs: list[dict]) -> subprocess.Popen:
        """Start a training process that logs `specs`; the caller waits for it."""
        for spec in specs:
            spec.setdefault("project", self.project)
        return subprocess.Popen(
            [sys.executable, str(HERE / "log_runs.py"), json.dumps(specs)],
            env=self.platform.env, cwd=self.platform.data_dir.parent,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )

    def run_logger(self, script: str, *args: str, timeout: float = 180) -> str:
        """Run a logging script of this folder to its end; its output."""
        done = subprocess.run(
            [sys.executable, str(HERE / script), *args],
            env=self.platform.env, cwd=self.platform.data_dir.parent,
            capture_output=True, timeout=timeout, check=False,
        )
        output = (done.stdout + done.stderr).decode(errors="replace")
        assert done.returncode == 0, output
        return output

    def run(self, run_id: str) -> dict:
        return self.get(f"/api/v1/runs/{self.entity}/{self.project}/{run_id}")

    def url(self, *parts: str, **params: str) -> str:
        path = "/".join(quote(p, safe="") for p in (self.entity, self.project, *parts))
        query = "?" + urlencode(params) if params else ""
        return f"{self.base_url}/#/{path}{query}"


SPECS = [
    {"id": "alpha", "name": "alpha", "config": {"lr": 0.01, "batch": 32,
     "optimizer": "adam"}, "tags": ["baseline"], "steps": 300, "scale": 1.0,
     "nan_at": 150},
    {"id": "beta", "name": "beta", "config": {"lr": 0.1, "batch": 32,
     "optimizer": "sgd"}, "steps": 300, "scale": 2.0},
    {"id": "gamma", "name": "gamma", "config": {"lr": 0.001, "batch": 64,
     "optimizer": "adam"}, "steps": 300, "scale": 3.0},
    {"id": "rank0", "name": "ddp-rank0", "config": {"lr": 0.05, "batch": 16},
     "group": "ddp-1", "job_type": "rank", "steps": 200, "scale": 1.5},
    {"id": "rank1", "name": "ddp-rank1", "config": {"lr": 0.05, "batch": 16},
     "group": "ddp-1", "job_type": "rank", "steps": 200, "scale": 1.7},
]


def screenshot(page: Any, name: str) -> Path:
    """Keep a full-page screenshot of the view as a test artefact."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"dashboard-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def canvas_ink(page: Any, selector: str) -> int:
    """How many pixels of the first canvas under `selector` are drawn on."""
    return page.eval_on_selector(
        selector + " canvas",
        """(canvas) => {
          const data = canvas.getContext('2d').getImageData(
            0, 0, canvas.width, canvas.height).data;
          let ink = 0;
          for (let i = 3; i < data.length; i += 4) { if (data[i] > 0) { ink++; } }
          return ink;
        }""",
    )

