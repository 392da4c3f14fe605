"""The storage interface: chDB in a temporary directory, ClickHouse if given."""

from __future__ import annotations

import math
import os
from collections.abc import Iterator

import numpy as np
import pytest
from lodestar_server.writer.migrations import available, migrate, statements
from lodestar_server.writer.storage import (
    ChdbStorage,
    Storage,
    StorageError,
    make_storage,
)

CLICKHOUSE_URL = os.environ.get("LODESTAR_TEST_CLICKHOUSE_URL", "")


@pytest.fixture(scope="module", params=["chdb", "clickhouse"])
def store(request: pytest.FixtureRequest,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[Storage]:
    if request.param == "clickhouse":
        if not CLICKHOUSE_URL:
            pytest.skip("set LODESTAR_TEST_CLICKHOUSE_URL to test the ClickHouse "
                        "server backend")
        storage: Storage = make_storage(CLICKHOUSE_URL)
    else:
        storage = make_storage(f"chdb://{tmp_path_factory.mktemp('store')}/chdb")
    migrate(storage)
    yield storage
    storage.close()


def test_migrations_apply_once(store: Storage) -> None:
    assert migrate(store) == []
    rows = store.query("SELECT version FROM schema_migrations")
    versions = sorted(r["version"] for r in rows)
    assert versions == [version for version, _path in available()]


def test_nonfinite_floats_and_extreme_ints_round_trip_exactly(store: Storage) -> None:
    floats = [math.nan, math.inf, -math.inf, 5e-324, 1.7976931348623157e308]
    ints = [-(2**63), 2**63 - 1, 0, -1, 2**53 + 1]
    store.insert("history", {
        "entity": ["e"] * 5, "project": ["p"] * 5, "run_id": ["exact"] * 5,
        "key": ["k"] * 5, "step": np.arange(5), "f64": np.array(floats),
        "i64": ints, "text": ["", "'quoted'", "tab\there", "ünïcode", "\\"],
        "version": np.ones(5, dtype=np.uint64),
    })

    rows = store.query(
        "SELECT f64, i64, text FROM history WHERE run_id = {r:String} ORDER BY step",
        {"r": "exact"},
    )

    assert math.isnan(rows[0]["f64"])
    assert [r["f64"] for r in rows[1:]] == floats[1:]
    assert [r["i64"] for r in rows] == ints
    assert [r["text"] for r in rows] == ["", "'quoted'", "tab\there", "ünïcode", "\\"]


def test_parameters_are_bound_not_pasted(store: Storage) -> None:
    tricky = "x' OR 1=1 --"
    rows = store.query(
        "SELECT {s:String} AS s, {a:Array(String)} AS a, {n:Int64} AS n",
        {"s": tricky, "a": [tricky, "b\\c"], "n": -(2**63)},
    )
    assert rows == [{"s": tricky, "a": [tricky, "b\\c"], "n": -(2**63)}]


@pytest.mark.parametrize("text", ["abc\\", "a\\b", "\\x41", "tab\tx", "line\nx",
                                  "cr\rx", "\\\\"])
def test_text_parameters_arrive_as_given(store: Storage, text: str) -> None:
    rows = store.query("SELECT {s:String} AS s, {a:Array(String)} AS a",
                       {"s": text, "a": [text]})
    assert rows == [{"s": text, "a": [text]}]


def test_a_bad_statement_raises_storage_error_with_the_sql(store: Storage) -> None:
    with pytest.raises(StorageError, match="no_such_table"):
        store.query("SELECT * FROM no_such_table")


def test_a_query_that_fails_while_running_leaves_the_next_one_working(
    store: Storage,
) -> None:
    with pytest.raises(StorageError, match="throwIf"):
        store.query("SELECT throwIf(number = 3) FROM numbers(10)")
    assert store.query("SELECT 7 AS x") == [{"x": 7}]


def test_chdb_keeps_data_across_reopen(tmp_path) -> None:
    path = str(tmp_path / "chdb")
    first = ChdbStorage(path)
    migrate(first)
    first.insert("schema_migrations", {"version": [99], "name": ["x"],
                                       "applied_at": [1.0]})
    first.close()

    second = ChdbStorage(path)
    try:
        found = second.query("SELECT name FROM schema_migrations WHERE version = 99")
    finally:
        second.close()

    assert found == [{"name": "x"}]


def test_storage_url_must_be_chdb_or_http() -> None:
    with pytest.raises(StorageError, match="is not chdb:///PATH"):
        make_storage("postgres://x")
    with pytest.raises(StorageError, match="absolute path"):
        make_storage("chdb://relative/dir")


def test_statements_split_on_semicolons_at_line_ends() -> None:
    text = "-- comment\nCREATE TABLE a (x String DEFAULT ';');\n\nSELECT 1;\n"
    assert statements(text) == ["CREATE TABLE a (x String DEFAULT ';')", "SELECT 1"]
