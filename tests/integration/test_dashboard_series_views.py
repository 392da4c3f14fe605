"""Saved dashboards in a real NATS KV bucket: checked, listed per project."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from lodestar_server.common import bus
from lodestar_server.common.config import PlatformConfig
from lodestar_server.query.dashboard_views import Dashboards, ViewError, check_dashboard

pytestmark = pytest.mark.timeout(60)
PANEL = {"kind": "line", "title": "loss", "metrics": ["train/loss"],
         "layout": {"w": 2, "h": 1}}


async def _saved_and_listed(config: PlatformConfig) -> dict[str, Any]:
    client = await bus.connect(config, "views-test")
    try:
        kv = await bus.bucket(client.jetstream(), "views-" + uuid.uuid4().hex[:8])
        boards = Dashboards(kv)
        loss = {"title": "Loss", "panels": [PANEL]}
        await boards.save("me", "p-1", "loss", loss, "me")
        await boards.save("me", "p-1", "acc", {"panels": []}, "me")
        await boards.save("me", "p-10", "other", {"panels": []}, "me")
        await boards.save("me", "p", "short", {"panels": []}, "me")
        return {
            "p-1": [(d["id"], d["title"]) for d in await boards.list("me", "p-1")],
            "p-10": [d["id"] for d in await boards.list("me", "p-10")],
            "none": await boards.list("me", "nothing"),
            "loss": await boards.get("me", "p-1", "loss"),
        }
    finally:
        await client.close()


def test_a_project_lists_its_own_dashboards_only(servers: PlatformConfig):
    found = asyncio.run(_saved_and_listed(servers))

    assert found["p-1"] == [("acc", "acc"), ("loss", "Loss")]
    assert found["p-10"] == ["other"]
    assert found["none"] == []
    assert found["loss"]["panels"] == [PANEL]


def test_a_panel_gets_a_default_size_and_keeps_its_metrics():
    record = check_dashboard("d", {"panels": [{"kind": "bar", "metrics": ["acc"]}]})

    assert record["panels"] == [{"kind": "bar", "title": "", "metrics": ["acc"],
                                 "layout": {"w": 1, "h": 1}}]


@pytest.mark.parametrize(("panel", "message"), [
    ({"kind": "pie"}, "panel 0 kind 'pie': use one of line, bar, scalar, table, media"),
    ({"kind": "line", "metrics": "loss"},
     "panel 0 metrics 'loss': a list of metric names"),
    ({"kind": "line", "layout": {"w": 5}},
     "panel 0 layout w=5: a whole number from 1 to 4"),
    ({"kind": "line", "layout": {"h": 0}},
     "panel 0 layout h=0: a whole number from 1 to 3"),
])
def test_a_bad_panel_is_refused_saying_what_to_use(panel: dict, message: str):
    with pytest.raises(ViewError) as caught:
        check_dashboard("d", {"panels": [panel]})

    assert str(caught.value) == message
