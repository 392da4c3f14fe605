"""Edits and deletes through `Api`: published as events, read back at once,
and never undone by a replay of the run's WAL."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from lodestar._proto import events_pb2
from lodestar.errors import ApiError
from query_support import (
    QueryPlatform,
    finish,
    run_start,
    start_query_platform,
    summary,
)

pytestmark = pytest.mark.timeout(180)
PROJECT = "edits"


def _wal(run_id: str) -> str:
    return hashlib.md5(run_id.encode()).hexdigest()


@pytest.fixture(scope="module")
def platform(servers: Any, tmp_path_factory: Any) -> Iterator[QueryPlatform]:
    yield from start_query_platform(servers, tmp_path_factory.mktemp("edits"))


def _original(run_id: str) -> list[events_pb2.Event]:
    return [
        run_start(1000.0, "first-name", {"lr": 0.1, "layers": 3}, tags=["a"]),
        summary(2, {"acc": 0.5, "loss": 1.5}),
        finish(3),
    ]


def _replay(platform: QueryPlatform, run_id: str) -> None:
    """The same WAL sent again, as a later sync would (a new message id)."""
    batch = events_pb2.PublishedBatch(
        entity=platform.user, project=PROJECT, run_id=run_id,
        publisher_id=_wal(run_id),
        events=_original(run_id), user=platform.user,
    )
    seq = platform.publish_with_id(batch, f"{_wal(run_id)}:replay")
    platform.wait_applied(seq)


def test_edits_round_trip_and_survive_a_replayed_wal(
    platform: QueryPlatform,
) -> None:
    platform.feed(PROJECT, "e1", *_original("e1"), publisher=_wal("e1"))
    run = platform.api().run(f"{platform.user}/{PROJECT}/e1")

    run.name = "renamed"
    run.tags = ["a", "best"]
    run.notes = "looks good"
    run.config["lr"] = 0.2
    del run.config["layers"]
    run.summary["acc"] = 0.9
    del run.summary["loss"]
    run.update()
    _replay(platform, "e1")
    again = platform.api().run(f"{platform.user}/{PROJECT}/e1")

    for seen in (run, again):
        assert seen.name == "renamed"
        assert seen.tags == ["a", "best"]
        assert seen.notes == "looks good"
        assert seen.config == {"lr": 0.2}
        assert dict(seen.summary) == {"acc": 0.9}
        assert seen.state == "finished"


def test_summary_update_saves_at_once(platform: QueryPlatform) -> None:
    platform.feed(PROJECT, "e2", *_original("e2"), publisher=_wal("e2"))
    run = platform.api().run(f"{platform.user}/{PROJECT}/e2")

    run.summary["best"] = float("nan")
    run.summary.update()
    run.summary.update({"extra": [1, 2]})
    stored = platform.api().run(f"{platform.user}/{PROJECT}/e2").summary

    assert stored["acc"] == 0.5
    assert stored["extra"] == [1, 2]
    assert stored["best"] != stored["best"]  # NaN came back as NaN


def test_a_deleted_run_stays_deleted_after_a_replayed_wal(
    platform: QueryPlatform,
) -> None:
    platform.feed(PROJECT, "e3", *_original("e3"), publisher=_wal("e3"))
    api = platform.api()

    api.run(f"{platform.user}/{PROJECT}/e3").delete()
    _replay(platform, "e3")

    with pytest.raises(ApiError) as caught:
        platform.api().run(f"{platform.user}/{PROJECT}/e3")
    assert caught.value.status == 404
    listed = [r.id for r in api.runs(f"{platform.user}/{PROJECT}")]
    assert "e3" not in listed


def test_edit_of_an_unknown_field_is_refused(platform: QueryPlatform) -> None:
    platform.feed(PROJECT, "e4", *_original("e4"), publisher=_wal("e4"))

    status, body = platform.request(
        "PATCH", f"/api/v1/runs/{platform.user}/{PROJECT}/e4", {"colour": "red"}
    )

    assert status == 422
    assert "colour" in json.dumps(body)


def test_internal_applied_needs_the_service_secret(platform: QueryPlatform) -> None:
    body = {"entity": platform.user, "project": PROJECT, "run_id": "e1",
            "publisher_id": _wal("e1"), "last_seq": 3, "timeout_s": 1}

    refused = platform.request("POST", "/internal/v1/applied", body)
    allowed = platform.request(
        "POST", "/internal/v1/applied", body,
        {"Authorization": f"Service {platform.config.server_secret}"},
    )

    assert refused[0] == 401
    assert allowed == (200, {"applied": True})
