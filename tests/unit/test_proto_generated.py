"""The generated protobuf code: in step with ``proto/``, and working on both
ends of the supported runtime range (the installed 4.25 and the newest)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PROTO_DIR = REPO / "proto"
GENERATED = REPO / "sdk" / "lodestar" / "_proto"
PROTOS = ["lodestar/_proto/events.proto", "lodestar/_proto/ingest.proto"]
GENERATOR_PIN = "1.62.3"
OUTPUTS = ["events_pb2.py", "events_pb2.pyi", "ingest_pb2.py", "ingest_pb2.pyi",
           "ingest_pb2_grpc.py"]

ROUND_TRIP = textwrap.dedent("""
    import sys
    from pathlib import Path
    import google.protobuf
    from lodestar._proto import events_pb2, ingest_pb2, ingest_pb2_grpc
    from lodestar.wal import WalWriter, read_all

    header = events_pb2.WalHeader(wal_id="ab" * 16, project="p", run_id="r")
    batch = events_pb2.HistoryBatch(steps=[0, 1], timestamps=[1.5, 2.5],
                                    runtimes=[0.1, 0.2], keys=["x", "big"])
    batch.columns.add(key="x", kind=events_pb2.FLOAT, f64=[float("nan"), -0.0])
    batch.columns.add(key="big", kind=events_pb2.BIGINT, text=["9" * 40], rows=[1])
    events = [
        events_pb2.Event(seq=1, run_start=events_pb2.RunStart(name="n")),
        events_pb2.Event(seq=2, timestamp=3.25, history=batch),
        events_pb2.Event(seq=3, finish=events_pb2.Finish(state=events_pb2.FINISHED)),
    ]
    path = Path(sys.argv[1]) / "run.wal"  # the test's own folder, removed by pytest
    writer = WalWriter(path, header)
    writer.append(events)
    writer.close()
    got_header, got = read_all(path)
    assert got_header == header
    assert [e.SerializeToString() for e in got] == [
        e.SerializeToString() for e in events]
    message = ingest_pb2.ClientMessage(open=ingest_pb2.StreamOpen(header=header))
    assert ingest_pb2.ClientMessage.FromString(message.SerializeToString()) == message
    assert ingest_pb2_grpc.IngestStub is not None
    print(google.protobuf.__version__, google.protobuf.__file__)
""")


def test_generated_code_matches_the_proto_files(tmp_path):
    version = metadata.version("grpcio-tools")
    assert version == GENERATOR_PIN, (
        f"grpcio-tools {version} is installed; the generated code is pinned to "
        f"{GENERATOR_PIN}: pip install grpcio-tools=={GENERATOR_PIN}"
    )
    command = [sys.executable, "-m", "grpc_tools.protoc", f"-I{PROTO_DIR}",
               f"--python_out={tmp_path}", f"--pyi_out={tmp_path}",
               f"--grpc_python_out={tmp_path}", *PROTOS]
    subprocess.run(command, check=True, cwd=REPO, timeout=60)
    stale = [name for name in OUTPUTS
             if (tmp_path / "lodestar" / "_proto" / name).read_bytes()
             != (GENERATED / name).read_bytes()]
    assert stale == [], f"{stale} are stale; run `make proto` and commit the result"


@pytest.fixture(scope="session")
def newest_protobuf(tmp_path_factory) -> Path:
    """The newest protobuf release from PyPI, installed into a private folder."""
    target = tmp_path_factory.mktemp("newest-protobuf")
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
               "--disable-pip-version-check", "--target", str(target), "protobuf"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        reason = done.stderr[-500:]
        pytest.skip(f"PyPI could not be reached to fetch protobuf: {reason}")
    return target


def _round_trip(pythonpath: str | None, folder: Path) -> str:
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    done = subprocess.run([sys.executable, "-c", ROUND_TRIP, str(folder)], env=env,
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_wal_round_trip_on_the_installed_runtime(tmp_path):
    version, _ = _round_trip(None, tmp_path).split()
    assert [p.name for p in tmp_path.iterdir()] == ["run.wal"]
    assert version == metadata.version("protobuf")
    assert version.startswith("4.25.")


def test_wal_round_trip_on_the_newest_runtime(newest_protobuf, tmp_path):
    version, location = _round_trip(str(newest_protobuf), tmp_path).split()
    assert [p.name for p in tmp_path.iterdir()] == ["run.wal"]
    assert Path(location).is_relative_to(newest_protobuf)
    assert int(version.split(".")[0]) >= 5, version
