"""Requests the API cannot answer get a 4xx that says what to fix.

Bad patterns and bad comparisons are 400s rather than a 503 or an empty
page, unknown API paths are JSON 404s rather than the dashboard's page, and
counts leave deleted runs out.
"""

from __future__ import annotations

import hashlib
import time
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from lodestar._proto import events_pb2
from query_support import QueryPlatform, run_start, start_query_platform, summary

pytestmark = pytest.mark.timeout(180)
PROJECT = "errors"
GONE = "errors-gone"


def _history(seq: int, steps: range, key: str) -> events_pb2.Event:
    return events_pb2.Event(seq=seq, timestamp=time.time(),
                            history=events_pb2.HistoryBatch(
        steps=list(steps), timestamps=[1000.0 + s for s in steps],
        runtimes=[float(s) for s in steps],
        columns=[events_pb2.Column(key=key, kind=events_pb2.FLOAT,
                                   f64=[float(s) for s in steps])],
    ))


def _file(seq: int, path: str) -> events_pb2.Event:
    digest = hashlib.sha256(path.encode()).hexdigest()
    return events_pb2.Event(seq=seq, timestamp=time.time(), file=events_pb2.FileEntry(
        path=path, sha256=digest, size=len(path),
        manifest_json=f'{{"sha256": "{digest}", "size": {len(path)}}}',
    ))


@pytest.fixture(scope="module")
def platform(servers: Any, tmp_path_factory: Any) -> Iterator[QueryPlatform]:
    for found in start_query_platform(servers, tmp_path_factory.mktemp("errors")):
        found.feed(PROJECT, "r1", run_start(1.7e9, "exp-one", {"lr": 0.1}),
                   summary(2, {"acc": 0.5}), _history(3, range(5), "epoch"),
                   _file(4, "report.txt"))
        found.feed(PROJECT, "r2", run_start(1.7e9 + 1, "two", {"lr": 0.2}))
        for run_id in ("g1", "g2"):
            found.feed(GONE, run_id, run_start(1.7e9, run_id, {}))
        yield found


def _search(platform: QueryPlatform, filters: Any) -> tuple[int, Any]:
    return platform.request("POST", f"/api/v1/search/runs/{platform.user}/{PROJECT}",
                            {"filters": filters})


def _run_path(platform: QueryPlatform, run_id: str = "r1") -> str:
    return f"/api/v1/runs/{platform.user}/{PROJECT}/{run_id}"


@pytest.mark.parametrize(("pattern", "reason"), [
    ("(?=exp)", "RE2 has no lookahead (?=...)"),
    ("(a)\\1", "backreferences such as \\1 are not supported; match the text "
     "again instead"),
    ("a{1001}", "repeat count {1001} is over RE2's limit of 1000; use a smaller "
     "count or + or *"),
    ("(?:a{10}){101}", "repeat count {101} is over RE2's limit of 1000 (nested "
     "repeats multiply); use a smaller count or + or *"),
    ("x*+", "RE2 has no possessive quantifiers (*+, ++, ?+, {n}+); drop the +"),
])
def test_patterns_re2_refuses_are_400s_naming_the_pattern_and_the_reason(
    platform: QueryPlatform, pattern: str, reason: str
) -> None:
    status, body = _search(platform, {"display_name": {"$regex": pattern}})

    assert (status, body["detail"]) == (
        400, f"bad filter: filters.display_name: $regex {pattern!r} cannot be "
        f"used: {reason}")


def test_patterns_re2_accepts_still_match(platform: QueryPlatform) -> None:
    status, body = _search(platform, {"display_name": {"$regex": "^exp-(o|x)ne$"}})

    assert status == 200
    assert [run["id"] for run in body["runs"]] == ["r1"]


@pytest.mark.parametrize("operand", ["abc", None, [1]])
def test_ordering_a_metric_against_a_non_number_is_a_400(
    platform: QueryPlatform, operand: Any
) -> None:
    status, body = _search(platform, {"summary_metrics.acc": {"$lt": operand}})

    assert status == 400
    assert "compare summary_metrics.acc with a number" in body["detail"]


def test_a_metric_still_equals_a_string_and_orders_against_a_number(
    platform: QueryPlatform,
) -> None:
    assert _search(platform, {"summary_metrics.acc": "abc"}) == (
        200, {"runs": [], "total": 0})
    status, body = _search(platform, {"summary_metrics.acc": {"$lt": 0.6}})
    assert status == 200 and body["total"] == 1


@pytest.mark.parametrize(("text", "message"), [
    ("summary.acc >= abc", "compare summary_metrics.acc with a number"),
    ("tags = best or", "'or' at column 13 joins no clause"),
    ("tags = best or state = running", "'or' at column 13: the filter bar joins "
     "clauses with 'and' only"),
])
def test_the_filter_bar_refuses_bad_lines_with_the_place(
    platform: QueryPlatform, text: str, message: str
) -> None:
    status, body = platform.request(
        "GET", f"/api/v1/dashboard/runs/{platform.user}/{PROJECT}?filter="
        + quote(text))

    assert status == 422
    assert message in body["detail"]


def test_projects_leave_deleted_runs_out_of_the_count(
    platform: QueryPlatform,
) -> None:
    def counts() -> dict[str, int]:
        found = platform.request("GET", "/api/v1/projects")[1]["projects"]
        return {p["name"]: p["run_count"] for p in found}

    before = counts()
    platform.request("DELETE", f"/api/v1/runs/{platform.user}/{GONE}/g1")
    one_left = counts()
    platform.request("DELETE", f"/api/v1/runs/{platform.user}/{GONE}/g2")

    assert before[GONE] == 2 and before[PROJECT] == 2
    assert one_left[GONE] == 1
    assert GONE not in counts()


@pytest.mark.parametrize("path", [
    "/api/v1/nosuch",
    "/api/v1",
    "/api/v1/runs/{user}/errors/etc/passwd",
    "/internal/v1/nosuch",
])
def test_unknown_api_paths_are_json_404s_not_the_page(
    platform: QueryPlatform, path: str
) -> None:
    path = path.format(user=platform.user)

    status, body = platform.request("GET", path)

    assert status == 404
    assert body == {"detail": f"nothing at GET {path}; the API's routes are "
                    "listed at /openapi.json"}


def test_page_paths_still_serve_the_page(platform: QueryPlatform) -> None:
    with urllib.request.urlopen(f"{platform.base_url}/{platform.user}/{PROJECT}/r1",
                                timeout=30) as response:
        assert response.status == 200
        assert response.headers["content-type"].startswith("text/html")


def test_a_wrong_method_on_a_known_route_is_still_405(
    platform: QueryPlatform,
) -> None:
    assert platform.request("PUT", "/api/v1/viewer")[0] == 405


def test_deleting_a_file_the_run_lacks_is_a_404_naming_it(
    platform: QueryPlatform,
) -> None:
    files = _run_path(platform) + "/files/"

    missing = platform.request("DELETE", files + "nosuchfile")
    deleted = platform.request("DELETE", files + "report.txt")
    again = platform.request("DELETE", files + "report.txt")

    assert missing == (404, {"detail": f"run {platform.user}/{PROJECT}/r1 has no "
                             "file 'nosuchfile'; list its files with GET "
                             f"{_run_path(platform)}/files"})
    assert deleted[0] == 200 and deleted[1]["deleted"] is True
    assert again[0] == 404


def test_an_unknown_wal_holds_nothing_rather_than_404(
    platform: QueryPlatform,
) -> None:
    assert platform.request("GET", _run_path(platform) + "/wals/abc") == (
        200, {"max_seq": 0, "keys": {}})


def test_an_unknown_x_axis_is_a_400_naming_it(platform: QueryPlatform) -> None:
    status, body = platform.request("GET", _run_path(platform)
                                    + "/history?x_axis=nosuch")

    assert status == 400
    assert body["detail"].startswith("unknown x_axis 'nosuch': run r1 logged no "
                                     "such key; use one of _step, _runtime, "
                                     "_timestamp")


def test_a_logged_key_is_a_valid_x_axis(platform: QueryPlatform) -> None:
    status, body = platform.request("GET", _run_path(platform)
                                    + "/history?x_axis=epoch")

    assert status == 200
    assert [row["epoch"] for row in body["rows"]] == [0.0, 1.0, 2.0, 3.0, 4.0]
