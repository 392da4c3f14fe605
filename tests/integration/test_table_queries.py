"""Table queries on the server: sorts, filters, bad requests, and downloads,
fed with hand-made `TableChunk` events."""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request

import pytest
from lodestar._proto import events_pb2
from query_support import run_start, start_query_platform

COLUMNS = ["n", "name", "flag"]
ROWS = [[3, "Beta", True], [1, "alpha", False], ["NaN", "gamma", True],
        [2, "O'Brien; DROP TABLE x", None], [10, "beta", False]]


@pytest.fixture(scope="module")
def platform(servers, tmp_path_factory):
    yield from start_query_platform(servers, tmp_path_factory.mktemp("tables"))


@pytest.fixture(scope="module")
def table(platform):
    chunks = [
        events_pb2.TableChunk(
            key="t", step=2, table_id="tbl1", first_row=first, total_rows=len(ROWS),
            columns=COLUMNS, rows_json=[json.dumps(r) for r in ROWS[first:end]],
            column_types_json=json.dumps(["number", "string", "bool"]),
        )
        for first, end in ((0, 3), (3, 5))
    ]
    events = [run_start(time.time(), "t", {})]
    events += [events_pb2.Event(seq=i + 2, timestamp=time.time(), table_chunk=c)
               for i, c in enumerate(chunks)]
    platform.feed("tq", "run1", *events)
    return f"/api/v1/runs/{platform.user}/tq/run1/tables"


def _rows(platform, base: str, **params) -> tuple[int, dict]:
    query = urllib.parse.urlencode(params, doseq=True)
    return platform.request("GET", f"{base}/tbl1/rows?{query}")


def _column(body: dict, index: int = 0) -> list:
    return [row[index] for row in body["rows"]]


def test_tables_are_listed_and_described(platform, table):
    status, body = platform.request("GET", f"{table}?key=t")
    assert status == 200
    assert body["tables"] == [{"table_id": "tbl1", "key": "t", "step": 2,
                               "columns": COLUMNS,
                               "column_types": ["number", "string", "bool"],
                               "total_rows": 5}]
    status, body = platform.request("GET", f"{table}/tbl1")
    assert (status, body["stored_rows"]) == (200, 5)


def test_rows_come_in_logged_order_by_default(platform, table):
    status, body = _rows(platform, table)
    assert status == 200
    assert body["rows"] == ROWS and body["total"] == 5
    assert body["row_numbers"] == [0, 1, 2, 3, 4]


def test_numeric_sort_puts_nan_last_and_text_sort_is_bytewise(platform, table):
    assert _column(_rows(platform, table, order="n")[1]) == [1, 2, 3, 10, "NaN"]
    assert _column(_rows(platform, table, order="-n")[1]) == [10, 3, 2, 1, "NaN"]
    names = _column(_rows(platform, table, order="name")[1], 1)
    assert names == sorted(r[1] for r in ROWS)


def test_filters_combine_and_values_are_bound_not_spliced(platform, table):
    status, body = _rows(platform, table, order="n", filter=[
        json.dumps(["n", ">=", 2]), json.dumps(["name", "contains", "ET"])])
    assert status == 200
    assert body["rows"] == [[3, "Beta", True], [10, "beta", False]]
    assert body["total"] == 2  # contains ignores case; NaN is not >= 2
    status, body = _rows(platform, table, filter=[json.dumps(
        ["name", "==", "O'Brien; DROP TABLE x"])])
    assert _column(body) == [2]
    status, body = _rows(platform, table, filter=[json.dumps(["flag", "==", True])])
    assert _column(body, 1) == ["Beta", "gamma"]


def test_paging_counts_every_match(platform, table):
    status, body = _rows(platform, table, order="name", offset=1, limit=2)
    assert (status, body["total"], body["offset"]) == (200, 5, 1)
    assert _column(body, 1) == sorted(r[1] for r in ROWS)[1:3]


@pytest.mark.parametrize("params, message", [
    ({"order": "nope"}, "the table has no column 'nope'"),
    ({"filter": '["n", "~", 1]'}, "must be [column, op, value]"),
    ({"filter": "not json"}, "is not JSON"),
    ({"filter": '["n", "<", "abc"]'}, "column 'n' holds numbers"),
    ({"filter": '["name", "contains", 3]'}, "'contains' on 'name' needs text"),
])
def test_bad_sorts_and_filters_are_400_with_the_reason(platform, table, params,
                                                       message):
    status, body = _rows(platform, table, **params)
    assert status == 400
    assert message in body["detail"]


def test_unknown_table_is_404(platform, table):
    status, body = platform.request("GET", f"{table}/missing/rows")
    assert status == 404
    assert "has no table 'missing'" in body["detail"]


def test_json_download_holds_every_row(platform, table):
    request = urllib.request.Request(
        f"{platform.base_url}{table}/tbl1/download?format=json")
    request.add_header("Authorization", f"Bearer {platform.key}")
    with urllib.request.urlopen(request, timeout=30) as response:
        disposition = response.headers["Content-Disposition"]
        body = json.loads(response.read())
    assert disposition == 'attachment; filename="t_2.json"'
    assert body == {"columns": COLUMNS, "column_types": ["number", "string", "bool"],
                    "data": ROWS}
