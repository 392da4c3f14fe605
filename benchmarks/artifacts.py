"""Blob store and artifact speed on a local platform started for the run.

Prints: upload and download MB/s of one large file through signed S3 URLs
(hashing included, chunks checked by the service), and the time to log
10,000 small files as one artifact from a training process until its
version exists (staging in the training process, then the agent's upload).

    python benchmarks/artifacts.py [--mb 512] [--files 10000]
"""

from __future__ import annotations

import argparse
import netrc
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import lodestar
from lodestar.artifacts.manifest import describe_file
from lodestar.artifacts.transfer import BlobClient
from lodestar_server.launcher import control
from lodestar_server.launcher.servers import free_port

SMALL_FILES = """
import sys, time, lodestar
from pathlib import Path
count = int(sys.argv[1])
folder = Path("many")
folder.mkdir()
for i in range(count):
    (folder / f"f{i:05d}.txt").write_text(f"small file number {i}\\n" * 4)
run = lodestar.init(project="bench-artifacts")
art = lodestar.Artifact("many-files", "dataset")
art.add_dir(folder)
started = time.perf_counter()
run.log_artifact(art)
staged = time.perf_counter()
art.wait(3600)
done = time.perf_counter()
print(f"{staged - started:.2f} {done - started:.2f} {art.version}")
run.finish()
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=512)
    parser.add_argument("--files", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lodestar-bench-") as tmp:
        root = Path(tmp)
        home = root / "home"
        home.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith("LODESTAR_")}
        env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / "c"))
        config = control.start_detached(root / "data", port=free_port(), env=env,
                                        stop_with_caller=True)
        try:
            host = config.public_url.split("://", 1)[1].rstrip("/")
            key = netrc.netrc(str(home / ".netrc")).authenticators(host)[2]
            env.update(LODESTAR_BASE_URL=config.public_url, LODESTAR_API_KEY=key)
            owner = lodestar.Api(overrides={"base_url": config.public_url},
                                 api_key=key).default_entity
            transfer(BlobClient(config.artifacts_url, key), owner, root, args.mb)
            small_files(root, env, args.files)
        finally:
            control.stop(root / "data")


def transfer(client: BlobClient, entity: str, root: Path, megabytes: int) -> None:
    source = root / "large.bin"
    with open(source, "wb") as handle:
        for block in range(megabytes):
            handle.write(block.to_bytes(8, "little") * (1 << 17))
    size_mb = source.stat().st_size / 1e6
    started = time.perf_counter()
    manifest = describe_file(source)
    client.upload_files(entity, [(str(source), manifest)])
    upload_s = time.perf_counter() - started
    started = time.perf_counter()
    client.download_file(entity, manifest, root / "back.bin")
    download_s = time.perf_counter() - started
    print(f"{size_mb:.0f} MB file, {len(manifest.chunk_list)} chunks")
    print(f"  upload   {size_mb / upload_s:7.1f} MB/s  ({upload_s:.1f} s, hashing "
          "and the service's check included)")
    print(f"  download {size_mb / download_s:7.1f} MB/s  ({download_s:.1f} s, every "
          "chunk and the whole file checked)")


def small_files(root: Path, env: dict, count: int) -> None:
    script = root / "bench" / "many.py"
    script.parent.mkdir()
    script.write_text(SMALL_FILES)
    done = subprocess.run([sys.executable, str(script), str(count)], cwd=script.parent,
                          env=env, capture_output=True, text=True, check=True)
    staged, total, version = done.stdout.split()
    print(f"{count} small files as one artifact: {float(total):.1f} s until version "
          f"{version} existed ({float(staged):.1f} s staging them in the training "
          "process, the rest uploading and checking in the agent and service)")


if __name__ == "__main__":
    main()
