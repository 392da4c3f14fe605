"""`Api.runs` filters and orders against a known set of runs, through SQL."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
from lodestar.errors import ApiError
from query_support import (
    QueryPlatform,
    finish,
    run_start,
    start_query_platform,
    summary,
)

pytestmark = pytest.mark.timeout(180)
PROJECT = "filters"


def _at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()


RUNS: list[dict[str, Any]] = [
    {"id": "r1", "at": "2024-01-01T00:00:00", "name": "alpha",
     "config": {"lr": 0.1, "opt": {"name": "adam", "beta": 0.9}, "layers": 3},
     "tags": ["a", "best"], "group": "g1", "job_type": "train", "host": "h1",
     "summary": {"acc": 0.8, "loss.min": 0.2}, "exit": 0},
    {"id": "r2", "at": "2024-01-02T00:00:00", "name": "beta",
     "config": {"lr": 0.01, "opt": {"name": "sgd"}, "layers": 5},
     "tags": ["b"], "group": "g1", "job_type": "eval", "host": "h2",
     "summary": {"acc": 0.9}, "exit": 1},
    {"id": "r3", "at": "2024-01-03T12:00:00", "name": "gamma",
     "config": {"lr": 0.001, "layers": 5, "flag": True},
     "tags": [], "group": "g2", "job_type": "train", "host": "h1",
     "summary": {"acc": 0.95, "loss.min": 0.05}, "exit": None},
    {"id": "r4", "at": "2024-01-04T00:00:00", "name": "Delta-special",
     "config": {"wd": {"value": 0.5}, "note": "it's"},
     "tags": ["best"], "group": "", "job_type": "", "host": "h3",
     "summary": {}, "exit": None},
]


@pytest.fixture(scope="module")
def platform(servers: Any, tmp_path_factory: Any) -> Iterator[QueryPlatform]:
    for found in start_query_platform(servers, tmp_path_factory.mktemp("filters")):
        for spec in RUNS:
            events = [run_start(_at(spec["at"]), spec["name"], spec["config"],
                                spec["tags"], spec["group"], spec["job_type"],
                                spec["host"])]
            if spec["summary"]:
                events.append(summary(2, spec["summary"]))
            if spec["exit"] is not None:
                events.append(finish(len(events) + 1, spec["exit"]))
            found.feed(PROJECT, spec["id"], *events)
        yield found


def _ids(platform: QueryPlatform, filters: Any, order: str = "+created_at") -> list:
    runs = platform.api().runs(f"{platform.user}/{PROJECT}", filters=filters,
                               order=order)
    return [run.id for run in runs]


@pytest.mark.parametrize(("filters", "expected"), [
    (None, ["r1", "r2", "r3", "r4"]),
    ({"config.layers": 5}, ["r2", "r3"]),
    ({"config.layers": {"$eq": 3}}, ["r1"]),
    ({"config.layers": {"$ne": 5}}, ["r1", "r4"]),
    ({"config.lr": {"$lt": 0.01}}, ["r3"]),
    ({"config.lr": {"$lte": 0.01}}, ["r2", "r3"]),
    ({"config.lr": {"$gt": 0.01}}, ["r1"]),
    ({"config.lr": {"$gte": 0.01}}, ["r1", "r2"]),
    ({"state": {"$in": ["finished", "failed"]}}, ["r1", "r2"]),
    ({"job_type": {"$nin": ["train"]}}, ["r2", "r4"]),
    ({"config.flag": {"$exists": True}}, ["r3"]),
    ({"config.flag": {"$exists": False}}, ["r1", "r2", "r4"]),
    ({"config.flag": True}, ["r3"]),
    ({"display_name": {"$regex": "^(al|ga)"}}, ["r1", "r3"]),
    ({"display_name": {"$regex": "^delta", "$options": "i"}}, ["r4"]),
    ({"name": "beta"}, ["r2"]),
    ({"config.opt.name": "adam"}, ["r1"]),
    ({"config.opt.beta": {"$gt": 0.5}}, ["r1"]),
    ({"config.wd.value": 0.5}, ["r4"]),
    ({"config.lr.value": 0.1}, ["r1"]),
    ({"config.note": "it's"}, ["r4"]),
    ({"summary_metrics.loss.min": {"$lt": 0.1}}, ["r3"]),
    ({"summary_metrics.acc": {"$gte": 0.9}}, ["r2", "r3"]),
    ({"tags": "best"}, ["r1", "r4"]),
    ({"tags": {"$in": ["b", "a"]}}, ["r1", "r2"]),
    ({"tags": {"$nin": ["best"]}}, ["r2", "r3"]),
    ({"tags": {"$regex": "^b$"}}, ["r2"]),
    ({"group": "g1", "job_type": "train"}, ["r1"]),
    ({"host": "h1"}, ["r1", "r3"]),
    ({"$and": [{"group": "g1"}, {"config.lr": {"$lt": 0.05}}]}, ["r2"]),
    ({"$or": [{"state": "failed"}, {"host": "h3"}]}, ["r2", "r4"]),
    ({"$nor": [{"group": "g1"}, {"tags": "best"}]}, ["r3"]),
    ({"$not": {"group": "g1"}}, ["r3", "r4"]),
    ({"config.lr": {"$not": {"$gt": 0.005}}}, ["r3", "r4"]),
    ({"$or": [{"$and": [{"group": "g1"}, {"$not": {"tags": "b"}}]},
              {"summary_metrics.acc": {"$gt": 0.94}}]}, ["r1", "r3"]),
    ({"created_at": {"$lt": "2024-01-02T00:00:00"}}, ["r1"]),
    ({"created_at": {"$gte": "2024-01-02T01:00:00+02:00"}}, ["r2", "r3", "r4"]),
    ({"created_at": {"$gt": "2024-01-03T11:00:00Z",
                     "$lt": "2024-01-03T08:00:00-05:00"}}, ["r3"]),
    ({"display_name": "x' OR 1=1 --"}, []),
])
def test_each_operator_selects_exactly_the_matching_runs(
    platform: QueryPlatform, filters: Any, expected: list[str]
) -> None:
    assert _ids(platform, filters) == expected


def test_user_filter_matches_the_runs_owner(platform: QueryPlatform) -> None:
    assert _ids(platform, {"user": platform.user}) == ["r1", "r2", "r3", "r4"]
    assert _ids(platform, {"user": "nobody"}) == []


@pytest.mark.parametrize(("order", "expected"), [
    ("+created_at", ["r1", "r2", "r3", "r4"]),
    ("-created_at", ["r4", "r3", "r2", "r1"]),
    ("created_at", ["r1", "r2", "r3", "r4"]),
    ("+summary_metrics.acc", ["r1", "r2", "r3", "r4"]),
    ("-summary_metrics.acc", ["r3", "r2", "r1", "r4"]),
    ("+config.lr", ["r3", "r2", "r1", "r4"]),
    ("-config.layers", ["r2", "r3", "r1", "r4"]),
])
def test_runs_come_in_the_order_asked(
    platform: QueryPlatform, order: str, expected: list[str]
) -> None:
    assert _ids(platform, None, order) == expected


def test_pages_are_fetched_lazily_and_len_counts_matches(
    platform: QueryPlatform,
) -> None:
    runs = platform.api().runs(f"{platform.user}/{PROJECT}",
                               filters={"tags": {"$ne": "b"}}, per_page=1)

    assert len(runs) == 3
    assert len(runs._loaded) == 1
    assert [run.id for run in runs] == ["r1", "r3", "r4"]


@pytest.mark.parametrize(("filters", "order", "message"), [
    ({"config.lr": {"$foo": 1}}, "+created_at", "unknown operator '$foo'"),
    ({"$xor": [{"state": "running"}]}, "+created_at", "unknown operator '$xor'"),
    ({"$and": {"state": "running"}}, "+created_at", "$and takes a non-empty list"),
    ({"colour": "red"}, "+created_at", "unknown field 'colour'"),
    ({"created_at": {"$gt": "yesterday"}}, "+created_at", "is not an ISO time"),
    ({"config.lr": {"$in": 0.1}}, "+created_at", "$in takes a list"),
    ({"display_name": {"$regex": "(unclosed"}}, "+created_at", "is not valid"),
    ({"config.lr": {"$exists": "yes"}}, "+created_at", "$exists takes true"),
    (None, "+colour", "cannot order by '+colour'"),
])
def test_bad_filters_and_orders_say_what_is_wrong(
    platform: QueryPlatform, filters: Any, order: str, message: str
) -> None:
    runs = platform.api().runs(f"{platform.user}/{PROJECT}", filters=filters,
                               order=order)

    with pytest.raises(ApiError) as caught:
        len(runs)

    assert caught.value.status == 400
    assert message in str(caught.value)


def test_project_exports_config_and_summary_as_csv_and_frame(
    platform: QueryPlatform, tmp_path: Any
) -> None:
    runs = platform.api().runs(f"{platform.user}/{PROJECT}")
    path = tmp_path / "runs.csv"

    count = runs.to_csv(str(path))
    with path.open() as handle:
        rows = list(csv.DictReader(handle))
    frame = runs.to_pandas()

    assert count == 4
    assert [row["id"] for row in rows] == ["r1", "r2", "r3", "r4"]
    assert rows[0]["config.opt.name"] == "adam"
    assert rows[0]["summary.loss.min"] == "0.2"
    assert rows[0]["tags"] == "a,best"
    assert list(frame["id"]) == ["r1", "r2", "r3", "r4"]
    assert frame.loc[1, "config.layers"] == 5
    assert frame.loc[3, "config.wd.value"] == 0.5
