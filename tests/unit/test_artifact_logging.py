"""Logging artifacts without a server: alias rules shared with the artifacts
service, what ``wait()`` says when no version can come, staging folders that
do not outlive the run, and the agent giving up on content it cannot read."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from lodestar._proto import events_pb2
from lodestar.agent.uploads import RunIdentity, Uploader
from lodestar.artifacts.artifact import check_alias, check_aliases
from lodestar.artifacts.staging import read_logged, write_pending
from lodestar.errors import UsageError
from lodestar_server.artifacts.errors import BadRequest
from lodestar_server.artifacts.versions import check_alias as service_check_alias


@pytest.mark.parametrize("alias", [
    "candidate", "best-2", "a.b_c", "x" * 128, "v", "v1a", "V2",
    "", "bad alias:x", "x" * 129, "a/b", "latest", "v0", "v12", 7, None,
])
def test_aliases_follow_the_artifacts_service_rules(alias):
    try:
        expected = service_check_alias(alias)
    except BadRequest as refused:
        with pytest.raises(UsageError) as caught:
            check_alias(alias)
        assert str(caught.value) == str(refused)
    else:
        assert check_alias(alias) == expected


def test_alias_lists_drop_latest_and_repeats_and_refuse_a_plain_string():
    assert check_aliases(["best", "latest", "best", "rc"]) == ["best", "rc"]
    assert check_aliases(None) == []
    with pytest.raises(UsageError) as caught:
        check_aliases("best")
    assert str(caught.value) == (
        "aliases='best': pass a list of strings, such as ['best']")


OFFLINE_LOG = """
    import json, os, time, warnings, lodestar
    from pathlib import Path
    from lodestar.errors import CommError, LodestarWarning, UsageError
    report = {}
    run = lodestar.init(project="art-offline")
    art = lodestar.Artifact("notes", "dataset")
    with art.new_file("README.md", mode="w") as handle:
        handle.write("hello")
    art.add(lodestar.Table(columns=["a"], data=[[1]]), "preview")
    try:
        run.log_artifact(art, aliases=["candidate", "bad alias:x", ""])
    except UsageError as exc:
        report["alias"] = str(exc)
    run.log_artifact(art, aliases=["candidate"])
    started = time.monotonic()
    try:
        art.wait(30)
    except CommError as exc:
        report["wait"] = str(exc)
    report["wait_s"] = time.monotonic() - started
    copy = Path(art.download("copy"))
    report["copied"] = (copy / "README.md").read_text()
    report["run_dir"] = run.run_dir
    run.finish()
    late = lodestar.Artifact("late", "dataset")
    with late.new_file("x.txt", mode="w") as handle:
        handle.write("x")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run.log_artifact(late)
    report["late"] = [str(w.message) for w in caught
                      if w.category is LodestarWarning]
    try:
        late.wait(30)
    except CommError as exc:
        report["late_wait"] = str(exc)
    report["run_id"] = run.id
    tmp = Path(os.environ["TMPDIR"])
    report["left"] = sorted(p.name for p in tmp.glob("lodestar-artifact-*"))
    print(json.dumps(report))
"""


def test_offline_logging_stages_in_the_run_and_leaves_no_temporary_folder(tmp_path):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    script = tmp_path / "work" / "train.py"
    script.parent.mkdir()
    script.write_text(textwrap.dedent(OFFLINE_LOG))
    env = {**os.environ, "LODESTAR_MODE": "offline", "TMPDIR": str(scratch),
           "LODESTAR_DIR": str(tmp_path / "out")}
    done = subprocess.run([sys.executable, str(script)], cwd=script.parent, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    run_dir, run_id = report["run_dir"], report["run_id"]

    assert report["alias"] == ("alias 'bad alias:x' is not allowed: use 1-128 "
                               "letters, digits, '_', '.' or '-'")
    assert report["wait"] == (f"artifact 'notes' is staged in the offline run "
                              f"{run_dir}; `lodestar sync {run_dir}` logs it")
    assert report["wait_s"] < 5
    assert report["copied"] == "hello"
    late_reason = f"run {run_id} had already finished; log it before run.finish()"
    assert report["late"] == [f"artifact 'late' was not logged: {late_reason}"]
    assert report["late_wait"] == f"artifact 'late' was not logged: {late_reason}"
    assert report["left"] == []


def _artifact_event(run_dir: Path, entries: list[dict]) -> tuple[str, events_pb2.Event]:
    client_id = "ab" * 16
    document = {"client_id": client_id, "name": "weights", "type": "model",
                "description": "", "metadata": {}, "entries": entries}
    event = events_pb2.Event(artifact=events_pb2.ArtifactEvent(
        name="weights", type="model", digest="d" * 64,
        manifest_json=write_pending(run_dir, client_id, document)))
    return client_id, event


def test_agent_gives_up_on_an_artifact_whose_staged_content_is_gone(tmp_path):
    entry = {"path": "w.bin", "size": 3, "sha256": "e" * 64,
             "local": "artifacts/staging/" + "e" * 64}
    client_id, event = _artifact_event(tmp_path, [entry])
    uploader = Uploader(tmp_path, "http://127.0.0.1:9", "key")

    for _ in range(2):  # a retried batch meets the artifact again
        asyncio.run(uploader.prepare([event], RunIdentity("e", "p", "r")))
    reason = "the content of 'w.bin' cannot be read: No such file or directory"

    assert uploader.take_warnings() == [
        f"artifact 'weights' (type 'model') was not logged: {reason}"]
    assert uploader.take_warnings() == []
    assert read_logged(tmp_path, client_id) == {"error": reason, "status": 0}
    assert event.artifact.version == ""


def test_agent_gives_up_on_an_artifact_whose_manifest_is_gone(tmp_path):
    client_id, event = _artifact_event(tmp_path, [])
    (tmp_path / "artifacts" / "pending" / f"{client_id}.json").unlink()
    uploader = Uploader(tmp_path, "http://127.0.0.1:9", "key")

    asyncio.run(uploader.prepare([event], RunIdentity("e", "p", "r")))
    reason = "its staged manifest is missing from the run directory"

    assert uploader.take_warnings() == [
        f"artifact 'weights' (type 'model') was not logged: {reason}"]
    assert read_logged(tmp_path, client_id) == {"error": reason, "status": 0}
