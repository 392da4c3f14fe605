"""Run files end to end: save policies, the files/ folder, ignore globs,
restore, and the public API's files, downloads, uploads and deletes."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from artifacts_support import api, entity, run_script, wait_for
from lodestar.errors import ApiError, UsageError

pytestmark = pytest.mark.timeout(300)

POLICIES = """
    import time, lodestar
    from pathlib import Path
    def settle():  # the watcher looks about once a second
        time.sleep(1.5)
    run = lodestar.init(project="files-policies")
    Path("live.txt").write_text("live 1")
    Path("now.txt").write_text("now 1")
    Path("end.txt").write_text("end 1")
    lodestar.save("live*", policy="live")
    lodestar.save("now.txt", policy="now")
    lodestar.save("end.txt", policy="end")
    lodestar.save("ckpt/checkpoint*")
    settle()
    Path("live.txt").write_text("live 2")
    Path("now.txt").write_text("now 2")
    Path("end.txt").write_text("end 2")
    Path("ckpt").mkdir()
    Path("ckpt/checkpoint-1.bin").write_bytes(b"later")
    Path(run.dir, "extra").mkdir()
    Path(run.dir, "extra/kept.json").write_text("{}")
    Path(run.dir, "scratch.tmp").write_text("ignored")
    Path(run.dir, "__pycache__").mkdir()
    Path(run.dir, "__pycache__/x.pyc").write_text("ignored")
    settle()
    print(run.id)
    run.finish()
"""


def _files(platform, run_path: str, expected: str) -> dict:
    run = api(platform).run(run_path)

    def ready():
        found = {f.name: f for f in run.files()}
        return found if expected in found else None

    return wait_for(ready, 30, f"{expected} among the run's files")


def test_save_policies_globs_files_folder_and_ignore_globs(local_platform, tmp_path):
    out = run_script(local_platform, tmp_path / "w", POLICIES,
                     {"LODESTAR_IGNORE_GLOBS": "*.tmp,__pycache__/"})
    run_path = f"{entity(local_platform)}/files-policies/{out.strip()}"
    found = _files(local_platform, run_path, "config.yaml")
    got = tmp_path / "got"
    for name in ("live.txt", "now.txt", "end.txt", "checkpoint-1.bin",
                 "extra/kept.json"):
        found[name].download(root=str(got))

    assert (got / "live.txt").read_text() == "live 2"
    assert (got / "now.txt").read_text() == "now 1"
    assert (got / "end.txt").read_text() == "end 2"
    assert (got / "checkpoint-1.bin").read_bytes() == b"later"
    assert (got / "extra/kept.json").read_text() == "{}"
    assert "scratch.tmp" not in found and "__pycache__/x.pyc" not in found
    assert {"lodestar-summary.json", "lodestar-metadata.json"} <= set(found)


def test_restore_brings_back_a_deleted_local_file(local_platform, tmp_path):
    folder = tmp_path / "w"
    out = run_script(local_platform, folder, """
        import lodestar
        from pathlib import Path
        run = lodestar.init(project="files-restore")
        Path("weights.bin").write_bytes(b"w" * 5000)
        lodestar.save("weights.bin", policy="now")
        print(run.id)
        run.finish()
    """)
    run_id = out.strip()
    run_path = f"{entity(local_platform)}/files-restore/{run_id}"
    _files(local_platform, run_path, "weights.bin")
    (folder / "weights.bin").unlink()

    restored = run_script(local_platform, tmp_path / "w2", f"""
        import lodestar
        run = lodestar.init(project="files-restore", id="{run_id}", resume="must")
        handle = lodestar.restore("weights.bin", run_path="{run_path}",
                                  root="{folder}")
        print(len(handle.read()))
        run.finish()
    """)

    assert restored.split() == ["5000"]
    assert (folder / "weights.bin").read_bytes() == b"w" * 5000


def test_public_api_downloads_uploads_and_deletes_files(local_platform, tmp_path):
    out = run_script(local_platform, tmp_path / "w", """
        import lodestar
        from pathlib import Path
        run = lodestar.init(project="files-api")
        Path(run.dir, "report.txt").write_text("first")
        print(run.id)
        run.finish()
    """)
    run_path = f"{entity(local_platform)}/files-api/{out.strip()}"
    _files(local_platform, run_path, "report.txt")
    run = api(local_platform).run(run_path)
    target = tmp_path / "dl"
    target.mkdir()
    (target / "report.txt").write_text("local copy")

    with pytest.raises(UsageError):
        run.file("report.txt").download(root=str(target))
    run.file("report.txt").download(root=str(target), replace=True)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "later.md").write_text("uploaded after the run")
    uploaded = run.upload_file(str(tmp_path / "notes" / "later.md"), root=str(tmp_path))
    run.file("report.txt").delete()
    names = sorted(f.name for f in run.files())

    assert (target / "report.txt").read_text() == "first"
    assert uploaded.name == "notes/later.md" and uploaded.size == 22
    assert "report.txt" not in names and "notes/later.md" in names
    with pytest.raises(ApiError) as missing:
        run.file("report.txt")
    assert missing.value.status == 404


def test_server_refuses_file_names_that_climb(local_platform):
    run_path = "/api/v1/runs/" + entity(local_platform) + "/files-api/none/files/"
    request = urllib.request.Request(
        local_platform.base_url + run_path + "a%2F..%2F..%2Fescape", method="DELETE",
        headers={"Authorization": f"Bearer {local_platform.api_key}"},
    )

    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)

    assert refused.value.code == 422
