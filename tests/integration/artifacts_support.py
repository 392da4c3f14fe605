"""Helpers shared by the blob, artifact and run-file tests."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import urllib.request
from pathlib import Path
from typing import Any

import lodestar
from lodestar.artifacts.transfer import BlobClient
from polling import wait_for as wait_for


def api(platform: Any, key: str | None = None) -> lodestar.Api:
    return lodestar.Api(overrides={"base_url": platform.base_url},
                        api_key=key or platform.api_key)


def blobs(platform: Any, key: str | None = None) -> BlobClient:
    return BlobClient(platform.config.artifacts_url, key or platform.api_key)


def entity(platform: Any) -> str:
    return api(platform).default_entity


def run_script(
    platform: Any, folder: Path, body: str, env: dict[str, str] | None = None,
    name: str = "train.py",
) -> str:
    """Run `body` as a training script in `folder`; returns its stdout."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / name
    script.write_text(textwrap.dedent(body))
    done = subprocess.run(
        [sys.executable, "-u", str(script)], cwd=folder,
        env={**platform.env, **(env or {})}, capture_output=True, text=True,
        timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def start_script(platform: Any, folder: Path, body: str,
                 env: dict[str, str] | None = None) -> subprocess.Popen:
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "train.py"
    script.write_text(textwrap.dedent(body))
    return subprocess.Popen(
        [sys.executable, "-u", str(script)], cwd=folder,
        env={**platform.env, **(env or {})}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )


def admin_post(platform: Any, path: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        platform.base_url + path, data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": f"Bearer {platform.api_key}",
                 "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def new_user(platform: Any, name: str) -> str:
    """A new user (their own entity only); returns their API key."""
    admin_post(platform, "/api/v1/admin/users", {"name": name, "admin": False})
    return admin_post(platform, "/api/v1/admin/keys", {"user": name})["api_key"]


def write_random(path: Path, size: int, seed: int = 0) -> None:
    """A file of `size` bytes that does not repeat, written a block at a time."""
    block = 1 << 20
    with open(path, "wb") as handle:
        written = 0
        counter = seed
        while written < size:
            chunk = counter.to_bytes(8, "little") * (block // 8)
            handle.write(chunk[: min(block, size - written)])
            written += block
            counter += 1


def peak_rss_mb(pid: int) -> float:
    """VmHWM of a live process, in MB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return 0.0
    return 0.0


def cache_env(tmp_path: Path) -> dict[str, str]:
    return {"LODESTAR_CACHE_DIR": str(tmp_path / "cache")}

