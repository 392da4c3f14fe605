"""Filters compile to SQL that holds none of the user's text."""

from __future__ import annotations

import re

import pytest
from lodestar_server.query.filters import (
    FilterError,
    compile_filter,
    compile_order,
    to_unix,
)

HOSTILE = "x'); DROP TABLE history; --"


def test_no_user_text_reaches_the_sql() -> None:
    compiled = compile_filter({
        "$or": [{f"config.{HOSTILE}": HOSTILE},
                {"display_name": {"$regex": re.escape(HOSTILE)}},
                {"tags": {"$in": [HOSTILE]}}],
    })
    order = compile_order(f"-summary_metrics.{HOSTILE}")

    assert "DROP" not in compiled.sql and "DROP" not in order.sql
    assert HOSTILE in compiled.params.values()
    assert f"config.{HOSTILE}" not in compiled.sql


def test_times_without_a_zone_are_utc() -> None:
    assert to_unix("1970-01-02T00:00:00") == 86400.0
    assert to_unix("1970-01-02T02:00:00+02:00") == 86400.0
    assert to_unix("1970-01-02T00:00:00Z") == 86400.0


@pytest.mark.parametrize(("filters", "where", "message"), [
    ({"state": {"$near": 1}}, "filters.state", "unknown operator '$near'"),
    ({"$or": []}, "filters.$or", "non-empty list"),
    ([1, 2], "filters", "must be a dict"),
    ({"config.": 1}, "filters.config.", "unknown field"),
    ({"config.a..b": 1}, "filters.config.a..b", "empty part"),
    ({"state": {"$options": "i"}}, "filters.state", "$options goes with $regex"),
])
def test_malformed_filters_name_the_place_and_the_fix(
    filters: object, where: str, message: str
) -> None:
    with pytest.raises(FilterError) as caught:
        compile_filter(filters)  # type: ignore[arg-type]

    assert caught.value.where == where
    assert message in caught.value.problem
