"""Artifacts end to end: training processes log and use them through their
agents; `lodestar.Api` reads them back, moves aliases, deletes versions."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import lodestar
import pytest
from artifacts_support import (
    api,
    blobs,
    cache_env,
    entity,
    run_script,
    start_script,
    wait_for,
)
from lodestar.errors import ApiError, BadPath, UsageError, VerifyFailed

pytestmark = pytest.mark.timeout(600)

LOG_DATASET = """
    import os, sys, lodestar
    from pathlib import Path
    project, tag = sys.argv[1], sys.argv[2]
    Path("data/sub").mkdir(parents=True, exist_ok=True)
    Path("data/a.txt").write_text("alpha " + tag)
    Path("data/sub/b.txt").write_text("beta")
    Path("ref.txt").write_text("referenced, not copied")
    run = lodestar.init(project=project)
    art = lodestar.Artifact("dataset-x", "dataset", description="d",
                            metadata={"tag": tag})
    art.add_dir("data", name="raw")
    art.add_file("data/a.txt", name="top.txt")
    with art.new_file("notes/readme.md", mode="w") as handle:
        handle.write("# notes")
    art.add(lodestar.Table(columns=["x", "y"], data=[[1, "one"], [2, "two"]]), "tbl")
    art.add(lodestar.Image(__import__("numpy").full((4, 5, 3), 200, "uint8")), "pic")
    art.add_reference("file://" + str(Path("ref.txt").resolve()), name="ref.txt")
    run.log_artifact(art, aliases=["candidate"])
    art.wait(60)
    print(art.version, run.id)
    run.finish()
"""


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LODESTAR_CACHE_DIR", cache_env(tmp_path)["LODESTAR_CACHE_DIR"])


def _log(platform, folder: Path, project: str, tag: str) -> tuple[str, str]:
    out = run_script(platform, folder, LOG_DATASET.replace("sys.argv[1]", repr(project))
                     .replace("sys.argv[2]", repr(tag)))
    version, run_id = out.split()
    return version, run_id


def test_files_dirs_references_and_media_round_trip(local_platform, tmp_path, cache):
    version, run_id = _log(local_platform, tmp_path / "w", "art-roundtrip", "one")
    owner = entity(local_platform)
    found = api(local_platform).artifact(f"{owner}/art-roundtrip/dataset-x:latest")
    root = found.download(str(tmp_path / "out"))
    found.verify(root)
    table = found.get("tbl")
    image = found.get("pic")

    assert version == "v0"
    names = [f.path for f in found.files()]
    assert [n for n in names if not n.startswith("media/")] == [
        "notes/readme.md", "pic.image.json", "raw/a.txt", "raw/sub/b.txt",
        "ref.txt", "tbl.table.json", "top.txt"]
    assert len([n for n in names if n.startswith("media/images/pic_0_")]) == 1
    assert Path(root, "raw/a.txt").read_text() == "alpha one"
    assert Path(root, "raw/sub/b.txt").read_text() == "beta"
    assert Path(root, "notes/readme.md").read_text() == "# notes"
    assert Path(root, "ref.txt").read_text() == "referenced, not copied"
    assert found.get_entry("ref.txt").ref.startswith("file://")
    assert table.columns == ["x", "y"] and table.data == [[1, "one"], [2, "two"]]
    assert image.format == "png" and image.sha256 == found.get("pic").sha256
    assert found.metadata == {"tag": "one"}
    assert found.aliases == ["candidate"]
    assert found.logged_by() == f"{owner}/art-roundtrip/{run_id}"
    Path(root, "top.txt").write_text("changed")
    with pytest.raises(VerifyFailed) as changed:
        found.verify(root)
    assert changed.value.problem == "'top.txt' does not match its digest"


def test_identical_content_returns_the_existing_version(local_platform, tmp_path):
    first = _log(local_platform, tmp_path / "a", "art-same", "same")
    second = _log(local_platform, tmp_path / "b", "art-same", "same")
    third = _log(local_platform, tmp_path / "c", "art-same", "other")

    assert (first[0], second[0], third[0]) == ("v0", "v0", "v1")


def test_offline_run_synced_twice_keeps_one_version(local_platform, tmp_path):
    env = {"LODESTAR_MODE": "offline"}
    folder = tmp_path / "off"
    run_script(local_platform, folder, """
        import lodestar
        from pathlib import Path
        Path("model.bin").write_bytes(b"weights" * 1000)
        run = lodestar.init(project="art-offline")
        art = lodestar.Artifact("model", "model")
        art.add_file("model.bin")
        run.log_artifact(art)
        run.finish()
    """, env)
    run_dir = next((folder / "lodestar").glob("offline-run-*"))
    for _ in range(2):
        subprocess.run([str(Path(sys.executable).parent / "lodestar"), "sync",
                        str(run_dir)],
                       env=local_platform.env, check=True, capture_output=True,
                       timeout=120)
        (run_dir / ".synced").unlink(missing_ok=True)
    owner = entity(local_platform)

    versions = api(local_platform).artifact_versions(
        "model", f"{owner}/art-offline/model")

    assert [v.version for v in versions] == ["v0"]


def test_concurrent_loggers_get_gap_free_versions(local_platform, tmp_path):
    body = """
        import sys, lodestar
        worker = sys.argv[1] if len(sys.argv) > 1 else "?"
        run = lodestar.init(project="art-race")
        arts = []
        for i in range(3):
            art = lodestar.Artifact("shared", "dataset")
            with art.new_file("content.txt", mode="w") as handle:
                handle.write(f"{WORKER}-{i}")
            run.log_artifact(art)
            arts.append(art)
        for art in arts:
            art.wait(120)
        print(" ".join(a.version for a in arts))
        run.finish()
    """
    procs = [start_script(local_platform, tmp_path / f"w{n}",
                          body.replace("{WORKER}", str(n))) for n in range(4)]
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        outputs += out.split()
    owner = entity(local_platform)

    versions = api(local_platform).artifact_versions(
        "dataset", f"{owner}/art-race/shared")

    assert sorted(outputs, key=lambda v: int(v[1:])) == [f"v{i}" for i in range(12)]
    assert [v.version for v in versions] == [f"v{i}" for i in range(12)]
    assert len({v.digest for v in versions}) == 12


def test_aliases_move_and_deleting_a_version_keeps_shared_blobs(
    local_platform, tmp_path, cache,
):
    _log(local_platform, tmp_path / "a", "art-alias", "first")
    _log(local_platform, tmp_path / "b", "art-alias", "second")
    owner = entity(local_platform)
    reader = api(local_platform)
    older = reader.artifact(f"{owner}/art-alias/dataset-x:v0")
    newer = reader.artifact(f"{owner}/art-alias/dataset-x:v1")
    only_in_v0 = older.get_entry("raw/a.txt").digest
    shared = older.get_entry("raw/sub/b.txt").digest

    newer.aliases.append("best")
    newer.save()
    older.aliases.append("best")
    older.save()
    moved = reader.artifact(f"{owner}/art-alias/dataset-x:best")
    with pytest.raises(ApiError) as refused:
        older.delete()
    older.delete(delete_aliases=True)
    blobs(local_platform).call("POST", "/api/v1/admin/gc",
                               {"entity": owner, "grace_s": 0})
    survivor = reader.artifact(f"{owner}/art-alias/dataset-x:latest")
    survivor.verify(survivor.download(str(tmp_path / "after")))

    assert moved.version == "v0"
    assert refused.value.status == 422
    assert survivor.version == "v1" and survivor.get_entry("raw/sub/b.txt").digest \
        == shared
    assert sorted(blobs(local_platform).chunk_urls(owner, [shared])) == [shared]
    with pytest.raises(ApiError):
        blobs(local_platform).chunk_urls(owner, [only_in_v0])
    with pytest.raises(ApiError) as deleted:
        reader.artifact(f"{owner}/art-alias/dataset-x:v0")
    assert deleted.value.status == 404


def test_lineage_is_recorded_both_ways(local_platform, tmp_path):
    _version, producer = _log(local_platform, tmp_path / "p", "art-lineage", "lin")
    out = run_script(local_platform, tmp_path / "c", """
        import lodestar
        run = lodestar.init(project="art-lineage")
        art = run.use_artifact("dataset-x:latest", type="dataset")
        root = art.download("got")
        art.verify(root)
        print(run.id, open("got/top.txt").read())
        run.finish()
    """)
    consumer, content = out.split(maxsplit=1)
    owner = entity(local_platform)
    reader = api(local_platform)

    used = wait_for(lambda: reader.run(f"{owner}/art-lineage/{consumer}")
                    .used_artifacts(), 30, "the use to be recorded")
    logged = reader.run(f"{owner}/art-lineage/{producer}").logged_artifacts()
    version = reader.artifact(f"{owner}/art-lineage/dataset-x:v0")

    assert content.strip() == "alpha lin"
    assert [(a.name, a.version) for a in used] == [("dataset-x", "v0")]
    assert [(a.name, a.version) for a in logged] == [("dataset-x", "v0")]
    assert version.logged_by() == f"{owner}/art-lineage/{producer}"
    assert version.used_by() == [f"{owner}/art-lineage/{consumer}"]


def test_training_process_uses_artifacts_without_opening_sockets(
    local_platform, tmp_path,
):
    _log(local_platform, tmp_path / "p", "art-sockets", "s")
    out = run_script(local_platform, tmp_path / "c", """
        import psutil, lodestar
        run = lodestar.init(project="art-sockets")
        art = run.use_artifact("dataset-x:v0")
        art.download("got")
        mine = [c for c in psutil.Process().net_connections(kind="inet")]
        print(len(mine))
        run.finish()
    """)

    assert out.split() == ["0"]


def test_bad_names_and_specs_are_refused_on_the_client():
    art = lodestar.Artifact("ok-name", "dataset")

    with pytest.raises(UsageError):
        lodestar.Artifact("../up", "dataset")
    with pytest.raises(BadPath):
        art.add_reference("file:///etc/hostname", name="../../escape")
    with pytest.raises(BadPath):
        with art.new_file("/abs/path.txt"):
            pass


def test_deleting_a_run_with_its_artifacts_deletes_the_versions_it_logged(
    local_platform, tmp_path,
):
    _log(local_platform, tmp_path / "keep", "art-run-delete", "kept")
    _version, run_id = _log(local_platform, tmp_path / "gone", "art-run-delete",
                            "gone")
    owner = entity(local_platform)
    reader = api(local_platform)
    wait_for(lambda: reader.run(f"{owner}/art-run-delete/{run_id}")
             .logged_artifacts(), 30, "the logged version to be recorded")

    reader.run(f"{owner}/art-run-delete/{run_id}").delete(delete_artifacts=True)

    with pytest.raises(ApiError) as deleted:
        reader.artifact(f"{owner}/art-run-delete/dataset-x:v1")
    assert deleted.value.status == 404
    assert reader.artifact(f"{owner}/art-run-delete/dataset-x:v0").version == "v0"
    with pytest.raises(ApiError) as run_gone:
        reader.run(f"{owner}/art-run-delete/{run_id}")
    assert run_gone.value.status == 404


REFUSED_TYPE = """
    import json, os, warnings, lodestar
    from pathlib import Path
    from lodestar.errors import CommError, LodestarWarning
    Path("f.txt").write_text("first")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = lodestar.init(project="art-refused")
        first = lodestar.Artifact("clash", "dataset")
        first.add_file("f.txt")
        run.log_artifact(first)
        first.wait(60)
        second = lodestar.Artifact("clash", "model")
        with second.new_file("m.txt", mode="w") as handle:
            handle.write("second")
        run.log_artifact(second)
        run.finish()
    try:
        second.wait(5)
        waited = "returned"
    except CommError as exc:
        waited = str(exc)
    shown = [str(w.message) for w in caught if w.category is LodestarWarning]
    left = [p.name for p in Path(os.environ["TMPDIR"]).glob("lodestar-artifact-*")]
    print(json.dumps({"warnings": shown, "wait": waited, "left": left}))
"""
TYPE_RULE = "artifact 'clash' is of type 'dataset', not 'model'; use another name " \
    "or the same type"


def test_a_refused_artifact_warns_the_script_and_fails_its_wait(
    local_platform, tmp_path,
):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    out = run_script(local_platform, tmp_path / "w", REFUSED_TYPE,
                     {"TMPDIR": str(scratch)})
    report = json.loads(out.strip().splitlines()[-1])
    owner = entity(local_platform)

    assert report["warnings"] == [
        f"artifact 'clash' (type 'model') was not logged: {TYPE_RULE}"]
    assert report["wait"] == f"artifact 'clash' was not logged: {TYPE_RULE}"
    assert report["left"] == []
    versions = api(local_platform).artifact_versions(
        "dataset", f"{owner}/art-refused/clash")
    assert [v.version for v in versions] == ["v0"]
