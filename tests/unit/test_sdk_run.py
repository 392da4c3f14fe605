"""Runs as a whole: modes, the run directory, lifecycle, reinit and resume."""

# ruff: noqa: F811 - the `workdir` fixture is imported from sdk_support

from __future__ import annotations

import json
import os
from pathlib import Path

import lodestar
import pytest
from lodestar import AuthError, LodestarWarning, UsageError
from lodestar._proto import events_pb2
from sdk_support import bodies, by_step, events, offline, workdir  # noqa: F401


def test_public_names_match_all():
    exported = {name for name in dir(lodestar) if not name.startswith("_")}
    exported |= {"run", "config", "summary", "Api", "__version__"}
    modules = {"errors", "history", "settings", "wal", "agent_status", "writer",
               "steps", "supervisor", "startup", "hooks", "run_dir", "metadata",
               "api", "agent", "cli", "files", "recording", "console",
               "system_metrics", "code_capture", "media", "jupyter",
               "artifacts", "file_watch", "run_files", "importers",
               "footprint", "rewind", "verify"}
    assert sorted(lodestar.__all__) == lodestar.__all__
    assert set(lodestar.__all__) == exported - modules
    for name in lodestar.__all__:
        assert getattr(lodestar, name, None) is not None or name == "run"


def test_generate_id_is_eight_lowercase_alphanumerics():
    ids = {lodestar.util.generate_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(len(i) == 8 and i.isalnum() and i == i.lower() for i in ids)


def test_disabled_mode_does_nothing(workdir):
    run = lodestar.init(project="p", mode="disabled", config={"lr": 1})
    run.log({"a": 1})
    run.define_metric("a", summary="max")
    run.summary["best"] = 2
    assert (run.config.lr, run.summary["best"], run.disabled) == (1, 2, True)
    assert lodestar.run is run
    run.finish()
    assert list(workdir.iterdir()) == []
    assert lodestar.run is None


def test_offline_run_directory_layout(workdir):
    run = offline(workdir, config={"lr": 0.1}, name="first", tags=["a", "b"])
    run.log({"x": 1})
    run.finish()
    root = workdir / "lodestar"
    run_dir = Path(run.run_dir)
    assert run_dir.parent == root
    assert run_dir.name.startswith("offline-run-") and run_dir.name.endswith(run.id)
    assert (root / "latest-run").resolve() == run_dir
    assert [p.name for p in run_dir.glob("*.wal")] == [f"run-{run.id}.wal"]
    assert sorted(p.name for p in (run_dir / "files").iterdir()) == [
        "code", "config.yaml", "lodestar-metadata.json", "lodestar-summary.json",
        "requirements.txt",
    ]
    assert (run_dir / "logs").is_dir()
    assert not (run_dir / "agent.json").exists()
    assert run.dir == str(run_dir / "files")


def test_metadata_names_program_host_python_and_git(workdir):
    run = offline(workdir)
    run.finish()
    meta = json.loads(Path(run.dir, "lodestar-metadata.json").read_text())
    assert {"program", "args", "host", "python", "executable", "cwd"} <= set(meta)
    assert meta["cwd"] == str(workdir)
    [start] = bodies(run, "run_start")
    assert json.loads(start.metadata_json)["host"] == meta["host"]


def test_credentials_are_stripped_from_git_remotes():
    from lodestar.metadata import strip_credentials

    assert strip_credentials("https://tok:x@github.com/a/b.git") == (
        "https://github.com/a/b.git"
    )
    assert strip_credentials("git@github.com:a/b.git") == "git@github.com:a/b.git"


def test_wal_starts_with_header_and_run_start(workdir):
    run = offline(workdir, project="proj", entity="team", name="n", group="g",
                  job_type="train", notes="hi", tags=("t",))
    run.finish()
    header, found = lodestar.wal.read_all(Path(run.run_dir) / f"run-{run.id}.wal")
    assert (header.project, header.entity, header.run_id) == ("proj", "team", run.id)
    assert len(header.wal_id) == 32
    assert [e.seq for e in found] == list(range(1, len(found) + 1))
    start = found[0].run_start
    assert (start.name, start.group, start.job_type, start.notes, list(start.tags)) == (
        "n", "g", "train", "hi", ["t"],
    )
    assert start.resume == events_pb2.RESUME_NEVER
    assert found[-1].finish.state == events_pb2.FINISHED


def test_offline_mode_from_the_environment(workdir, monkeypatch):
    monkeypatch.setenv("LODESTAR_MODE", "offline")
    run = lodestar.init(project="p", dir=workdir)
    assert run.offline
    run.finish()


def test_online_without_api_key_is_an_auth_error(workdir):
    with pytest.raises(AuthError, match="no API key for http://127.0.0.1:8080"):
        lodestar.init(project="p", dir=workdir)


def test_sequential_runs_each_get_their_own_wal(workdir):
    first = offline(workdir)
    first.log({"a": 1})
    lodestar.finish()
    second = offline(workdir)
    assert lodestar.run is second and first.id != second.id
    second.log({"a": 2})
    second.finish()
    assert by_step(first) == {0: {"a": 1}}
    assert by_step(second) == {0: {"a": 2}}
    assert lodestar.run is None


def test_init_returns_active_run_unless_reinit(workdir):
    first = offline(workdir)
    with pytest.warns(LodestarWarning, match="still active"):
        assert offline(workdir) is first
    second = offline(workdir, reinit=True)
    assert second is not first
    assert events(first)[-1].finish.state == events_pb2.FINISHED
    second.finish()


def test_context_manager_finishes_and_marks_exceptions_failed(workdir):
    with offline(workdir) as run:
        run.log({"a": 1})
    assert events(run)[-1].finish.state == events_pb2.FINISHED
    with pytest.raises(ValueError), offline(workdir) as failing:
        raise ValueError("boom")
    finish = events(failing)[-1].finish
    assert (finish.state, finish.exit_code, finish.reason) == (
        events_pb2.FAILED, 1, "exception: ValueError",
    )


def test_finish_with_exit_code_marks_failed(workdir):
    run = offline(workdir)
    run.finish(exit_code=3)
    finish = events(run)[-1].finish
    assert (finish.state, finish.exit_code) == (events_pb2.FAILED, 3)


def test_log_after_finish_warns_once(workdir):
    run = offline(workdir)
    run.finish()
    with pytest.warns(LodestarWarning, match="has finished"):
        run.log({"a": 1})
    with pytest.raises(UsageError, match="before lodestar.log"):
        lodestar.log({"a": 1})


def test_resume_must_needs_an_id(workdir):
    with pytest.raises(UsageError, match="resume='must' needs the run"):
        offline(workdir, resume="must")


def test_unknown_resume_mode_is_a_usage_error(workdir):
    with pytest.raises(UsageError, match="resume='sometimes'"):
        offline(workdir, resume="sometimes")


def test_offline_resume_continues_after_local_steps(workdir):
    first = offline(workdir, id="abc123xy")
    for i in range(3):
        first.log({"a": i})
    first.finish()
    again = offline(workdir, id="abc123xy", resume="allow")
    assert again.step == 3
    again.log({"a": 3})
    again.finish()
    assert by_step(again) == {3: {"a": 3}}
    assert again.run_dir != first.run_dir
    assert events(again)[0].run_start.resume == events_pb2.RESUME_ALLOW


def test_resume_true_picks_the_unfinished_run_of_this_directory(workdir):
    crashed = offline(workdir, project="keep")
    crashed.log({"a": 1})
    crashed._flush(to_disk=True)
    crashed._finished = True  # as if the process had died here
    crashed._queue.append((5,))
    lodestar._state._forget(crashed)
    resumed = lodestar.init(mode="offline", dir=workdir, resume=True)
    assert (resumed.id, resumed.project, resumed.step) == (crashed.id, "keep", 1)
    resumed.finish()
    fresh = lodestar.init(mode="offline", dir=workdir, resume=True, project="keep")
    assert fresh.id != crashed.id
    assert events(fresh)[0].run_start.resume == events_pb2.RESUME_NEVER
    fresh.finish()


def test_resume_and_id_from_the_environment(workdir, monkeypatch):
    monkeypatch.setenv("LODESTAR_RUN_ID", "envrun01")
    monkeypatch.setenv("LODESTAR_RESUME", "must")
    run = offline(workdir)
    assert run.id == "envrun01"
    assert events(run)[0].run_start.resume == events_pb2.RESUME_MUST
    run.finish()


def test_bad_project_name_is_a_usage_error(workdir):
    with pytest.raises(UsageError, match="must not hold '/'"):
        offline(workdir, project="a/b")
    assert not os.path.exists(workdir / "lodestar" / "latest-run")


@pytest.mark.parametrize("name", [".", ".."])
def test_path_steps_are_not_project_names(workdir, name):
    with pytest.raises(UsageError, match="is a path step, not a name"):
        offline(workdir, project=name)
