"""The dashboard's artifact routes against the whole local platform: a
version's files, an entry's bytes, downloads, checks and the lineage graph."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from artifacts_support import entity, new_user, run_script, wait_for

pytestmark = pytest.mark.timeout(300)

PROJECT = "dash-artifacts"
SCRIPT = """
    import lodestar
    from pathlib import Path
    Path("data/deep").mkdir(parents=True)
    Path("data/deep/a.txt").write_text("alpha\\n")
    Path("data/b.csv").write_text("x,y\\n1,2\\n")
    Path("outside.bin").write_bytes(b"ref")
    run = lodestar.init(project="dash-artifacts", id="maker")
    data = lodestar.Artifact("set", type="dataset", metadata={"n": 2})
    data.add_dir("data")
    data.add_reference(Path("outside.bin").resolve().as_uri(), name="outside.bin")
    run.log_artifact(data, aliases=["best"])
    run.finish()
    run = lodestar.init(project="dash-artifacts", id="user", reinit=True)
    run.use_artifact("set:best")
    Path("report.txt").write_text("report")
    run.save("report.txt", policy="now")
    model = lodestar.Artifact("net", type="model")
    model.add_file("report.txt", name="weights.txt")
    run.log_artifact(model)
    run.finish()
"""


@pytest.fixture(scope="module")
def logged(local_platform: Any, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The entity, once both runs' lineage and files are queryable."""
    run_script(local_platform, tmp_path_factory.mktemp("dash-art"), SCRIPT)
    owner = entity(local_platform)

    def ready() -> bool:
        used = _json(local_platform, f"/api/v1/lineage/{owner}/{PROJECT}/set/v0")
        files = _json(local_platform, f"/api/v1/runs/{owner}/{PROJECT}/user/files")
        made = _json(local_platform, f"/api/v1/runs/{owner}/{PROJECT}/user/artifacts")
        return (used["used_by"] == [f"{owner}/{PROJECT}/user"]
                and "report.txt" in {f["path"] for f in files["files"]}
                and len(made["artifacts"]) == 1)

    wait_for(ready, 60, "the lineage and the run's files")
    return owner


def _get(
    platform: Any, path: str, key: str | None = "",
) -> tuple[int, bytes, dict[str, str]]:
    token = key or platform.api_key
    headers = {} if key is None else {"Authorization": f"Bearer {token}"}
    request = urllib.request.Request(platform.base_url + path, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read(), dict(answer.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


def _json(platform: Any, path: str) -> Any:
    status, body, _ = _get(platform, path)
    assert status == 200, body
    return json.loads(body)


def _entry(owner: str, name: str, ref: str, path: str, download: bool = False) -> str:
    tail = "&download=1" if download else ""
    return (f"/api/v1/dashboard/artifact-file/{owner}/{PROJECT}/{name}/{ref}"
            f"?path={path}{tail}")


def test_files_route_lists_entries_of_the_version_an_alias_names(
    local_platform, logged
):
    found = _json(local_platform,
                  f"/api/v1/dashboard/artifact-files/{logged}/{PROJECT}/set/best")
    assert found["version"] == "v0"
    assert found["aliases"] == ["best", "latest"]
    assert found["metadata"] == {"n": 2}
    by_path = {f["path"]: f for f in found["files"]}
    assert sorted(by_path) == ["b.csv", "deep/a.txt", "outside.bin"]
    assert by_path["deep/a.txt"]["size"] == 6
    assert by_path["outside.bin"]["ref"].startswith("file://")
    assert "sha256" not in by_path["outside.bin"]


def test_entry_route_streams_bytes_and_downloads_under_the_file_name(
    local_platform, logged
):
    status, body, headers = _get(local_platform,
                                 _entry(logged, "set", "v0", "deep/a.txt"))
    assert (status, body) == (200, b"alpha\n")
    assert headers["content-security-policy"] == "sandbox"
    assert "content-disposition" not in {k.lower() for k in headers}
    status, body, headers = _get(local_platform,
                                 _entry(logged, "set", "v0", "b.csv", True))
    assert (status, body) == (200, b"x,y\n1,2\n")
    assert headers["content-disposition"] == (
        "attachment; filename=\"b.csv\"; filename*=UTF-8''b.csv")


def test_entry_route_refuses_references_unknown_and_climbing_names(
    local_platform, logged
):
    assert _get(local_platform, _entry(logged, "set", "v0", "outside.bin"))[0] == 409
    assert _get(local_platform, _entry(logged, "set", "v0", "nope.txt"))[0] == 404
    assert _get(local_platform, _entry(logged, "set", "v0", "deep/../b.csv"))[0] == 422
    assert _get(local_platform, _entry(logged, "set", "v9", "b.csv"))[0] == 404


def test_entry_route_needs_a_key_of_a_member(local_platform, logged):
    path = _entry(logged, "set", "v0", "b.csv")
    assert _get(local_platform, path, key=None)[0] == 401
    stranger = new_user(local_platform, "dash-art-stranger")
    assert _get(local_platform, path, key=stranger)[0] == 403


def test_run_file_download_is_an_attachment(local_platform, logged):
    status, body, headers = _get(
        local_platform,
        f"/api/v1/dashboard/download/{logged}/{PROJECT}/user?path=report.txt")
    assert (status, body) == (200, b"report")
    assert headers["content-disposition"].startswith(
        'attachment; filename="report.txt"')
    missing = f"/api/v1/dashboard/download/{logged}/{PROJECT}/user?path=../x"
    assert _get(local_platform, missing)[0] == 422


def test_lineage_graph_joins_producer_version_consumer_and_its_output(
    local_platform, logged
):
    graph = _json(local_platform,
                  f"/api/v1/dashboard/artifact-lineage/{logged}/{PROJECT}/set/v0")
    labels = sorted((n["column"], n["label"]) for n in graph["nodes"])
    assert labels == [(1, "maker"), (2, "set:v0"), (3, "user"), (4, "net:v0")]
    base = f"{logged}/{PROJECT}"
    assert graph["edges"] == [
        [f"artifact:2:{base}/set:v0", f"run:3:{base}/user"],
        [f"run:1:{base}/maker", f"artifact:2:{base}/set:v0"],
        [f"run:3:{base}/user", f"artifact:4:{base}/net:v0"],
    ]
    assert graph["more"] == {}


def test_lineage_of_the_output_shows_the_input_upstream(local_platform, logged):
    graph = _json(local_platform,
                  f"/api/v1/dashboard/artifact-lineage/{logged}/{PROJECT}/net/latest")
    labels = sorted((n["column"], n["label"]) for n in graph["nodes"])
    assert labels == [(0, "set:v0"), (1, "user"), (2, "net:v0")]
    states = {n["label"]: n.get("state") for n in graph["nodes"]}
    assert states["user"] == "finished"
