"""The dashboard's pure parts: the filter bar, live routing, saved dashboards."""

from __future__ import annotations

import asyncio

import pytest
from lodestar_server.query.dashboard_live import LiveHub, Watch
from lodestar_server.query.dashboard_table import (
    FilterError,
    group_column,
    parse_filter,
)
from lodestar_server.query.dashboard_views import ViewError, check_dashboard
from lodestar_server.query.filters import compile_filter


def test_filter_bar_reads_as_the_api_filter():
    assert parse_filter("config.lr > 0.01 and summary.acc >= 0.9") == {"$and": [
        {"config.lr": {"$gt": 0.01}}, {"summary_metrics.acc": {"$gte": 0.9}}]}
    assert parse_filter("state = running") == {"state": {"$eq": "running"}}
    assert parse_filter("config.batch != 32") == {"config.batch": {"$ne": 32}}
    assert parse_filter("tags = best; group = 'a b'") == {"$and": [
        {"tags": {"$eq": "best"}}, {"group": {"$eq": "a b"}}]}
    assert parse_filter("config.flag = true") == {"config.flag": {"$eq": True}}
    assert parse_filter("group = null") == {"group": {"$eq": None}}
    assert parse_filter("  ") is None


def test_filter_bar_contains_and_words_are_escaped_searches():
    assert parse_filter("name ~ res.net") == {
        "display_name": {"$regex": r"res\.net", "$options": "i"}}
    assert parse_filter("notes !~ bad") == {
        "notes": {"$not": {"$regex": "bad", "$options": "i"}}}
    words = parse_filter("resnet")
    assert [next(iter(c)) for c in words["$or"]] == [
        "display_name", "notes", "group", "tags"]
    compile_filter(words)  # the API's compiler accepts what the bar makes


def test_filter_bar_rejects_unknown_fields_and_missing_values():
    with pytest.raises(FilterError, match="unknown field 'colour'"):
        parse_filter("colour = blue")
    with pytest.raises(FilterError, match="no value after '>'"):
        parse_filter("config.lr >")


def test_group_column_takes_known_fields_and_config_keys_only():
    assert group_column("job_type")[1] == {"g": "job_type"}
    assert group_column("config.optimizer")[1] == {"g": "optimizer"}
    with pytest.raises(FilterError):
        group_column("notes")


def test_live_hub_hands_news_to_matching_streams_only():
    async def scenario() -> list[str]:
        hub = LiveHub("redis://unused")
        project = hub.events(Watch("e", "p"))
        other = hub.events(Watch("e", "q"))
        assert "connected" in await project.__anext__()
        await other.__anext__()
        hub.deliver(b'{"entity": "e", "project": "p", "run_id": "r", "max_step": 3}')
        hub.deliver(b"not json")
        got = await asyncio.wait_for(project.__anext__(), 1.0)
        pending = asyncio.ensure_future(other.__anext__())
        await asyncio.sleep(0)
        assert not pending.done()
        pending.cancel()
        await project.aclose()
        return [got, str(len(hub.streams))]

    got, left = asyncio.run(scenario())
    assert got.startswith("event: applied\ndata: ")
    assert '"run_id": "r"' in got
    assert left == "1"


def test_watch_of_a_run_ignores_other_runs():
    watch = Watch("e", "p", "r")
    assert watch.wants({"entity": "e", "project": "p", "run_id": "r"})
    assert not watch.wants({"entity": "e", "project": "p", "run_id": "s"})
    assert not watch.wants({"entity": "f", "project": "p", "run_id": "r"})


def test_saved_dashboard_checks_id_and_panel_kinds():
    record = check_dashboard("overview", {"title": "Overview", "panels": [
        {"kind": "line", "metrics": ["loss"]}]})
    assert record == {"id": "overview", "title": "Overview", "filter": "",
                      "panels": [{"kind": "line", "title": "", "metrics": ["loss"],
                                  "layout": {"w": 1, "h": 1}}]}
    with pytest.raises(ViewError, match="dashboard id 'Bad Id'"):
        check_dashboard("Bad Id", {})
    with pytest.raises(ViewError, match="panel 0 kind 'pie'"):
        check_dashboard("x", {"panels": [{"kind": "pie"}]})
