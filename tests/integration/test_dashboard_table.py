"""The dashboard's runs table: every column sorts in SQL; column choices per user."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from lodestar._proto import events_pb2
from query_support import QueryPlatform, start_query_platform, summary

pytestmark = pytest.mark.timeout(180)
PROJECT = "table-sorts"
NOW = time.time()

# id: created (seconds before now), runtime (None: still running), host, tags,
# group, job_type, notes, config.lr, summary.acc
RUNS: dict[str, tuple[Any, ...]] = {
    "a": (90_000, 100.0, "h2", ["zeta"], "g2", "train", "second", 0.1, 0.5),
    "b": (80_000, 5.0, "h1", ["beta", "alpha"], "g1", "eval", "", 0.01, 0.9),
    "c": (70_000, 50.0, "h3", [], "", "", "first", 0.001, None),
    "d": (1_000, None, "h0", ["mid"], "g3", "train", "third", None, 0.7),
}


def _events(spec: tuple[Any, ...]) -> list[events_pb2.Event]:
    ago, runtime, host, tags, group, job_type, notes, lr, acc = spec
    created = NOW - ago
    config = {} if lr is None else {"lr": lr}
    events = [events_pb2.Event(seq=1, timestamp=created, run_start=events_pb2.RunStart(
        name="run", tags=tags, group=group, job_type=job_type, notes=notes,
        config_json=json.dumps(config), metadata_json=json.dumps({"host": host}),
    ))]
    if acc is not None:
        events.append(summary(2, {"acc": acc}))
    if runtime is not None:
        events.append(events_pb2.Event(seq=3, timestamp=created + runtime,
                                       finish=events_pb2.Finish(exit_code=0)))
    return events


@pytest.fixture(scope="module")
def platform(servers: Any, tmp_path_factory: Any) -> Iterator[QueryPlatform]:
    for found in start_query_platform(servers, tmp_path_factory.mktemp("table")):
        for run_id, spec in RUNS.items():
            found.feed(PROJECT, run_id, *_events(spec))
        yield found


def _ids(platform: QueryPlatform, sort: str, **extra: Any) -> list[str]:
    path = (f"/api/v1/dashboard/runs/{platform.user}/{PROJECT}?"
            + urlencode({"sort": sort, **extra}))
    status, body = platform.request("GET", path)
    assert status == 200, body
    assert body["total"] == len(RUNS)
    return [run["id"] for run in body["runs"]]


@pytest.mark.parametrize(("sort", "expected"), [
    ("runtime", ["b", "c", "a", "d"]),
    ("-runtime", ["d", "a", "c", "b"]),
    ("host", ["d", "b", "a", "c"]),
    ("-host", ["c", "a", "b", "d"]),
    ("tags", ["b", "d", "a", "c"]),    # "alpha,beta" < "mid" < "zeta"; none last
    ("-tags", ["a", "d", "b", "c"]),
    ("id", ["a", "b", "c", "d"]),
    ("-id", ["d", "c", "b", "a"]),
    ("created_at", ["a", "b", "c", "d"]),
    ("-created_at", ["d", "c", "b", "a"]),
    ("-state", ["d", "a", "b", "c"]),   # running before finished
    ("group", ["b", "a", "d", "c"]),
    ("job_type", ["b", "a", "d", "c"]),
    ("notes", ["c", "a", "d", "b"]),  # first, second, third; none last
    ("-config.lr", ["a", "b", "c", "d"]),
    ("summary.acc", ["a", "d", "b", "c"]),
    ("-summary_metrics.acc", ["b", "d", "a", "c"]),
])
def test_every_column_sorts_on_the_server(
    platform: QueryPlatform, sort: str, expected: list[str]
) -> None:
    assert _ids(platform, sort) == expected


def test_sorting_by_user_and_name_keeps_every_run(platform: QueryPlatform) -> None:
    assert sorted(_ids(platform, "-user")) == ["a", "b", "c", "d"]
    assert _ids(platform, "name") == ["a", "b", "c", "d"]  # same names: then by id


def test_a_sorted_page_is_cut_after_sorting(platform: QueryPlatform) -> None:
    assert _ids(platform, "-runtime", limit=2, offset=1) == ["a", "c"]


def test_an_unknown_sort_column_is_refused_with_its_name(
    platform: QueryPlatform,
) -> None:
    status, body = platform.request(
        "GET", f"/api/v1/dashboard/runs/{platform.user}/{PROJECT}?sort=colour")
    assert status == 422
    assert "unknown field 'colour'" in body["detail"]


def test_column_choice_is_kept_per_user_and_project(platform: QueryPlatform) -> None:
    path = f"/api/v1/dashboard/columns/{platform.user}/{PROJECT}/choice"
    assert platform.request("GET", path) == (200, {"order": None, "hidden": []})

    choice = {"order": ["name", "config.lr", "state", "name"], "hidden": ["state"]}
    status, saved = platform.request("PUT", path, choice)
    assert status == 200
    assert (saved["order"], saved["hidden"]) == (["name", "config.lr", "state"],
                                                 ["state"])
    status, found = platform.request("GET", path)
    assert (found["order"], found["hidden"]) == (["name", "config.lr", "state"],
                                                 ["state"])
    other = f"/api/v1/dashboard/columns/{platform.user}/elsewhere/choice"
    assert platform.request("GET", other)[1]["order"] is None


def test_column_choice_refuses_a_bad_list(platform: QueryPlatform) -> None:
    path = f"/api/v1/dashboard/columns/{platform.user}/{PROJECT}/choice"
    status, body = platform.request("PUT", path, {"order": ["x" * 301]})
    assert status == 422
    assert body["detail"] == "order: column ids are 1-300 characters"


def test_column_choice_needs_the_key_as_a_bearer_header_to_change(
    platform: QueryPlatform,
) -> None:
    path = f"/api/v1/dashboard/columns/{platform.user}/{PROJECT}/choice"
    cookie = {"Cookie": f"lodestar_key={platform.key}"}
    status, _ = platform.request("PUT", path, {"order": ["name"]}, headers=cookie)
    assert status == 401


def test_session_lists_memberships_with_kind_and_role(platform: QueryPlatform) -> None:
    status, body = platform.request("GET", "/api/v1/dashboard/session")
    assert status == 200
    assert body["user"] == platform.user
    assert body["memberships"] == [
        {"entity": platform.user, "kind": "user", "role": "admin"}]
