"""Media logged through a run: files staged once, table chunks before values."""

from __future__ import annotations

from pathlib import Path

import lodestar
import numpy as np
import sdk_support
from sdk_support import bodies, by_step, events, offline

workdir = sdk_support.workdir  # the fixture, under the name the tests ask for


def test_same_image_logged_twice_is_staged_once(workdir):
    run = offline(workdir)
    image = lodestar.Image(np.arange(6, dtype=np.uint8).reshape(2, 3))
    run.log({"img": image})
    run.log({"img": lodestar.Image(np.arange(6, dtype=np.uint8).reshape(2, 3))})
    run.finish()
    stored = by_step(run)
    assert stored[0]["img"] == stored[1]["img"]
    path = stored[0]["img"]["path"]
    media = [f.path for f in bodies(run, "file") if f.path.startswith("media/")]
    assert media == [path]
    assert (Path(run.dir) / path).read_bytes() == image.data


def test_table_chunks_come_before_the_value_that_names_them(workdir):
    run = offline(workdir)
    run.log({"t": lodestar.Table(columns=["a"], data=[[1], [2]])}, step=3)
    run.finish()
    order = [e.WhichOneof("body") for e in events(run)]
    assert order.index("table_chunk") < order.index("history")
    value = by_step(run)[3]["t"]
    chunk = bodies(run, "table_chunk")[0]
    assert (chunk.key, chunk.step, chunk.table_id) == ("t", 3, value["table_id"])
    assert run.summary["t"]["nrows"] == 2


def test_nested_media_and_plain_values_share_a_row(workdir):
    run = offline(workdir)
    run.log({"eval": {"hist": lodestar.Histogram([1, 2, 2]), "acc": 0.5}})
    run.finish()
    row = by_step(run)[0]
    assert row["eval.acc"] == 0.5
    assert row["eval.hist"]["_type"] == "histogram"


def test_disabled_run_encodes_nothing_and_logs_quietly(workdir):
    run = lodestar.init(mode="disabled", project="unit")
    run.log({"img": lodestar.Image(np.zeros((2, 2)))})
    assert run._media is None
