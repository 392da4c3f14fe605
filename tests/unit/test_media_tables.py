"""Tables: building, pandas in and out, cells, chunks, writer rows, plots."""

from __future__ import annotations

import json
import math

import lodestar
import numpy as np
import pandas as pd
import pytest
from lodestar._proto import events_pb2
from lodestar.errors import UsageError
from lodestar.media import cells
from lodestar.media.values import encode_value
from lodestar_server.writer.rows import RowsError, RowSet
from media_support import MemorySink


def _rows(sink: MemorySink) -> list[list]:
    return [json.loads(text) for chunk in sink.chunks for text in chunk.rows_json]


def test_add_data_add_column_and_get_column():
    table = lodestar.Table(columns=["a", "b"], data=[[1, "x"]])
    table.add_data(2, "y")
    table.add_column("c", [True, False])
    assert table.columns == ["a", "b", "c"]
    assert table.data == [[1, "x", True], [2, "y", False]]
    assert table.get_column("b") == ["x", "y"]
    assert table.get_column("a", convert_to="numpy").tolist() == [1, 2]
    with pytest.raises(UsageError, match="a row has 1 values; the table has 3"):
        table.add_data(3)
    with pytest.raises(UsageError, match="column 'd' has 1 values"):
        table.add_column("d", [1])
    with pytest.raises(UsageError, match="already has a column 'a'"):
        table.add_column("a", [1, 2])


def test_dataframe_in_and_out_keeps_values_and_types():
    frame = pd.DataFrame({"i": [1, 2**40], "f": [0.5, np.nan],
                          "s": ["a", None], "b": [True, False]})
    table = lodestar.Table(dataframe=frame)
    assert table.columns == ["i", "f", "s", "b"]
    assert table.data[0] == [1, 0.5, "a", True]
    assert math.isnan(table.data[1][1]) and table.data[1][2] is None
    assert type(table.data[1][0]) is int
    back = table.get_dataframe()
    assert back["i"].tolist() == [1, 2**40]
    assert back["s"].isna().tolist() == [False, True]


def test_cells_keep_exact_values_with_the_api_convention():
    table = lodestar.Table(columns=["v"], data=[
        [2**80], [0.1], [math.nan], [-math.inf], ["NaN"], [np.int64(7)],
        [np.float32(0.5)], [None], [[1, math.nan]], [{"k": "Infinity"}],
        [pd.Timestamp("2024-01-02T03:04:05")],
    ])
    sink = MemorySink()
    value = encode_value(sink, table, "t", 0)
    assert [r[0] for r in _rows(sink)] == [
        2**80, 0.1, "NaN", "-Infinity", {"$text": "NaN"}, 7, 0.5, None,
        [1, "NaN"], {"k": {"$text": "Infinity"}}, "2024-01-02T03:04:05",
    ]
    assert value["column_types"] == ["mixed"]


def test_column_types_and_the_table_value():
    table = lodestar.Table(columns=["n", "s", "b", "img"], data=[
        [1, "a", True, lodestar.Image(np.zeros((2, 2)))],
        [2.5, None, False, None],
    ])
    sink = MemorySink()
    value = encode_value(sink, table, "preds", 9)
    assert value["_type"] == "table-file"
    assert (value["nrows"], value["ncols"]) == (2, 4)
    assert value["columns"] == ["n", "s", "b", "img"]
    assert value["column_types"] == ["number", "string", "bool", "media"]
    image = _rows(sink)[0][3]
    assert image["_type"] == "image-file" and image["path"] in sink.files


def test_chunks_stay_under_the_limit_and_cover_every_row_in_order():
    rows = [[i, "x" * 300] for i in range(5000)]
    table = lodestar.Table(columns=["i", "pad"], data=rows)
    sink = MemorySink()
    value = encode_value(sink, table, "big", 1)
    assert len(sink.chunks) > 1
    for chunk in sink.chunks:
        assert sum(len(t) for t in chunk.rows_json) <= cells.CHUNK_BYTES
        assert chunk.total_rows == 5000 and chunk.table_id == value["table_id"]
    firsts = [c.first_row for c in sink.chunks]
    sizes = [len(c.rows_json) for c in sink.chunks]
    assert firsts == [sum(sizes[:i]) for i in range(len(sizes))]
    assert [r[0] for r in _rows(sink)] == list(range(5000))


def test_same_table_twice_has_one_id_and_sends_its_rows_once():
    sink = MemorySink()
    first = encode_value(sink, lodestar.Table(columns=["a"], data=[[1]]), "t", 0)
    second = encode_value(sink, lodestar.Table(columns=["a"], data=[[1]]), "u", 1)
    other = encode_value(sink, lodestar.Table(columns=["a"], data=[[2]]), "t", 2)
    assert first["table_id"] == second["table_id"] != other["table_id"]
    assert len(sink.chunks) == 2


def test_empty_table_sends_one_chunk_with_its_columns():
    sink = MemorySink()
    value = encode_value(sink, lodestar.Table(columns=["a", "b"]), "t", 0)
    assert value["nrows"] == 0
    assert [(list(c.columns), len(c.rows_json)) for c in sink.chunks] == [
        (["a", "b"], 0)]


def _chunk_batch(chunk: events_pb2.TableChunk) -> events_pb2.PublishedBatch:
    return events_pb2.PublishedBatch(
        entity="e", project="p", run_id="r", publisher_id="w" * 32, epoch=1,
        events=[events_pb2.Event(seq=1, timestamp=1.0, table_chunk=chunk)],
    )


def test_writer_turns_a_chunk_into_numbered_rows_and_a_description():
    chunk = events_pb2.TableChunk(
        key="t", step=4, table_id="abc", first_row=10, total_rows=12,
        columns=["a", "b"], rows_json=["[1,2]", "[3,4]"],
        column_types_json='["number","number"]',
    )
    rows = RowSet()
    rows.add_batch(_chunk_batch(chunk), stream_seq=5)
    stored = rows.tables["table_rows"].columns()
    assert stored["row"].tolist() == [10, 11]
    assert list(stored["cells"]) == ["[1,2]", "[3,4]"]
    meta = rows.tables["table_meta"].columns()
    assert list(meta["columns"]) == ['["a", "b"]']
    assert meta["total_rows"].tolist() == [12] and meta["step"].tolist() == [4]


def test_writer_refuses_a_chunk_past_its_table():
    chunk = events_pb2.TableChunk(table_id="abc", first_row=1, total_rows=1,
                                  rows_json=["[1]"])
    with pytest.raises(RowsError, match="go past the table's 1 rows"):
        RowSet().add_batch(_chunk_batch(chunk), stream_seq=1)


def test_plots_are_a_table_and_a_description():
    table = lodestar.Table(columns=["x", "y"], data=[[0, 1], [1, 3]])
    sink = MemorySink()
    value = encode_value(sink, lodestar.plot.line(table, "x", "y", title="t"),
                         "c", 0)
    assert {k: value[k] for k in ("_type", "kind", "title", "fields")} == {
        "_type": "chart", "kind": "line", "title": "t",
        "fields": {"x": "x", "y": "y"}}
    assert value["table"]["_type"] == "table-file"
    with pytest.raises(UsageError, match="y='z' is not a column"):
        lodestar.plot.scatter(table, "x", "z")
    assert lodestar.plot.bar(table, "x", "y").kind == "bar"
    assert lodestar.plot.histogram(table, "y").fields == {"value": "y"}


def test_line_series_pr_roc_and_confusion_matrix_tables():
    series = lodestar.plot.line_series([0, 1], [[1, 2], [3, 4]], keys=["a", "b"])
    assert series.table.data == [["a", 0, 1], ["a", 1, 2], ["b", 0, 3], ["b", 1, 4]]
    truth = np.array([0, 1, 1, 0])
    probas = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.7, 0.3]])
    roc = lodestar.plot.roc_curve(truth, probas, labels=["neg", "pos"],
                                  classes_to_plot=[1])
    assert [row[1:] for row in roc.table.data] == [
        [0.0, 0.0], [0.0, 0.5], [0.0, 1.0], [0.5, 1.0], [1.0, 1.0]]
    pr = lodestar.plot.pr_curve(truth, probas, classes_to_plot=[1])
    assert pr.table.data[:3] == [["1", 0.0, 1.0], ["1", 0.5, 1.0], ["1", 1.0, 1.0]]
    matrix = lodestar.plot.confusion_matrix(y_true=truth, preds=[0, 1, 0, 1],
                                            class_names=["neg", "pos"])
    assert matrix.table.data == [["neg", "neg", 1], ["neg", "pos", 1],
                                 ["pos", "neg", 1], ["pos", "pos", 1]]
    from_probs = lodestar.plot.confusion_matrix(probs=probas, y_true=truth)
    assert [r[2] for r in from_probs.table.data] == [2, 0, 1, 1]
