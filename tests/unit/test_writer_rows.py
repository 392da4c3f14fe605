"""Turning published batches into rows, without a bus or a store."""

from __future__ import annotations

import math

import numpy as np
import pytest
from lodestar._proto import events_pb2
from lodestar_server.writer.rows import EVENT_BITS, RowsError, RowSet


def _batch(
    *events: events_pb2.Event, publisher: str = "w" * 32
) -> events_pb2.PublishedBatch:
    return events_pb2.PublishedBatch(
        entity="ent", project="proj", run_id="r1", publisher_id=publisher,
        epoch=2, events=list(events),
    )


def _history_event(seq: int = 1) -> events_pb2.Event:
    history = events_pb2.HistoryBatch(
        steps=[0, 1, 2],
        timestamps=[10.0, 11.0, 12.0],
        runtimes=[0.5, 1.5, 2.5],
        columns=[
            events_pb2.Column(key="loss", kind=events_pb2.FLOAT,
                              f64=[1.0, math.nan, -math.inf]),
            events_pb2.Column(key="n", kind=events_pb2.INT, rows=[2], i64=[-(2**63)]),
            events_pb2.Column(key="ok", kind=events_pb2.BOOL, rows=[0], i64=[1]),
            events_pb2.Column(key="big", kind=events_pb2.BIGINT, rows=[1],
                              text=[str(2**80)]),
        ],
    )
    return events_pb2.Event(seq=seq, timestamp=9.0, history=history)


def test_history_columns_become_one_row_per_key_and_step() -> None:
    rows = RowSet()
    rows.add_batch(_batch(_history_event()), stream_seq=7)

    cols = rows.tables["history"].columns()
    assert list(cols["key"]) == ["loss"] * 3 + ["n", "ok", "big"]
    assert cols["step"].tolist() == [0, 1, 2, 2, 0, 1]
    assert cols["runtime"].tolist() == [0.5, 1.5, 2.5, 2.5, 0.5, 1.5]
    assert cols["kind"].tolist() == [1, 1, 1, 2, 3, 4]
    assert cols["f64"][0] == 1.0 and math.isnan(cols["f64"][1])
    assert cols["f64"][2] == -math.inf
    assert cols["i64"].tolist()[3:5] == [-(2**63), 1]
    assert list(cols["text"])[5] == str(2**80)
    assert set(cols["version"].tolist()) == {7 << EVENT_BITS}
    assert set(cols["epoch"].tolist()) == {2}
    assert rows.max_steps == {("ent", "proj", "r1"): 2}


def test_events_at_or_below_applied_seq_are_dropped() -> None:
    rows = RowSet()
    added = rows.add_batch(
        _batch(_history_event(1), _history_event(2)), stream_seq=3, after_seq=1
    )

    assert added == 1
    assert set(rows.tables["history"].columns()["seq"].tolist()) == {2}
    assert set(rows.tables["history"].columns()["version"].tolist()) == {
        (3 << EVENT_BITS) + 1
    }


def test_column_with_wrong_value_count_is_rejected_with_reason() -> None:
    bad = events_pb2.HistoryBatch(
        steps=[0, 1],
        columns=[events_pb2.Column(key="x", kind=events_pb2.FLOAT, f64=[1.0])],
    )
    with pytest.raises(RowsError, match="'x' has 1 values for 2 rows"):
        RowSet().add_batch(_batch(events_pb2.Event(seq=1, history=bad)), 1)


def test_run_start_config_and_summary_become_field_rows() -> None:
    start = events_pb2.RunStart(
        name="exp", tags=["a", "b"], config_json='{"lr": 0.1, "arch": {"d": 3}}',
        metadata_json='{"host": "h"}',
    )
    summary = events_pb2.SummaryUpdate(set_json='{"acc": NaN}', remove=["old"])
    rows = RowSet()
    rows.add_batch(_batch(
        events_pb2.Event(seq=1, timestamp=5.0, run_start=start),
        events_pb2.Event(seq=2, summary=summary),
    ), stream_seq=1)

    cols = rows.tables["run_fields"].columns()
    deleted = cols["deleted"].tolist()
    found = {(f, n): (v, d) for f, n, v, d in zip(
        cols["field"], cols["name"], cols["value"], deleted, strict=True
    )}
    assert found[("name", "")] == ('"exp"', 0)
    assert found[("tags", "")] == ('["a", "b"]', 0)
    assert found[("config", "arch")] == ('{"d": 3}', 0)
    assert found[("created_at", "w" * 32)] == ("5.0", 0)
    assert found[("summary", "acc")] == ("NaN", 0)
    assert found[("summary", "old")] == ("", 1)
    assert found[("state", "")] == ('"running"', 0)


def test_finish_without_state_is_failed_for_nonzero_exit_code() -> None:
    rows = RowSet()
    finish = events_pb2.Finish(exit_code=3)
    rows.add_batch(_batch(events_pb2.Event(seq=1, finish=finish)), 1)

    cols = rows.tables["run_fields"].columns()
    assert dict(zip(cols["field"], cols["value"], strict=True))["state"] == '"failed"'


def test_system_metrics_and_console_get_their_own_tables() -> None:
    system = events_pb2.SystemMetrics(
        timestamps=[1.0, 2.0],
        columns=[events_pb2.Column(key="cpu", kind=events_pb2.FLOAT, f64=[3.0, 4.0])],
    )
    console = events_pb2.ConsoleOutput(lines=[
        events_pb2.ConsoleLine(timestamp=1.0, text="hello"),
        events_pb2.ConsoleLine(timestamp=2.0, stderr=True, text="oops"),
    ])
    rows = RowSet()
    rows.add_batch(_batch(
        events_pb2.Event(seq=1, system=system), events_pb2.Event(seq=2, console=console)
    ), 1)

    assert rows.tables["system_metrics"].columns()["value"].tolist() == [3.0, 4.0]
    console_cols = rows.tables["console"].columns()
    assert list(console_cols["text"]) == ["hello", "oops"]
    assert console_cols["stderr"].tolist() == [0, 1]
    assert np.array_equal(console_cols["line"], [0, 1])


def test_edit_of_unknown_field_is_rejected() -> None:
    edit = events_pb2.Edit(field="state", value_json='"finished"')
    with pytest.raises(RowsError, match="editable fields"):
        RowSet().add_batch(_batch(events_pb2.Event(seq=1, edit=edit)), 1)
