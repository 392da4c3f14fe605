"""The dashboard's filter bar: a line of text, read as the API's run filter.

The runs table is filtered and sorted in SQL by `search.RunSearch`, which
takes the MongoDB-style filter of the public API. People type a shorter form
into the filter bar, with the API's field names::

    config.lr > 0.01 and summary_metrics.acc >= 0.9
    state = running and tags = baseline
    group = sweep-3 and name ~ resnet
    resnet                      (bare words: search name, notes, group, tags)

Clauses are joined with ``and``. Operators: ``= != > >= < <=`` and ``~`` /
``!~`` (contains / lacks, case-insensitive). ``summary.`` is short for
``summary_metrics.``. A value is a number, ``true``/``false``/``null`` or
text (quotes optional). `parse_filter` turns the line into the API's filter
dict, so the bar and `Api.runs(filters=...)` share one implementation.

Every column of the table sorts in SQL (`table_page`): the API's orders
(`filters.compile_order`), plus ``runtime`` (to the end, or to now while the
run runs), ``host``, ``tags`` (the sorted tags joined) and ``id``. Runs that
lack the value come last in both directions.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

from ..writer.storage import Storage
from .filters import Compiled, compile_filter, compile_order
from .runs import RunReader
from .search import PIVOT

OPERATORS = {"=": "$eq", "==": "$eq", "!=": "$ne", ">": "$gt", ">=": "$gte",
             "<": "$lt", "<=": "$lte"}
FIELDS = ("name", "display_name", "state", "group", "job_type", "notes", "user",
          "host", "tags", "created_at", "heartbeat_at")
SEARCHED = ("display_name", "notes", "group", "tags")
GROUPABLE = ("group", "job_type", "state", "user")

_CLAUSE = re.compile(
    r"^\s*(?P<field>[^\s=!<>~]+)\s*(?P<op>!=|>=|<=|!~|==|=|>|<|~)\s*(?P<value>.*)$"
)
_AND = re.compile(r"\s+and\s+|\s*&&\s*|\s*;\s*", re.IGNORECASE)
_JOINER = r"(and|or|&&|\|\|)"
_DANGLING = re.compile(rf"^\s*{_JOINER}(?=\s|$)|(?:^|\s){_JOINER}\s*$", re.I)
_OR = re.compile(r"\s(or|\|\|)\s+[^\s=!<>~]+\s*(?:[=<>~]|!=|!~)", re.IGNORECASE)


class FilterError(ValueError):
    """A filter line the table cannot use; the message names the fix."""

    def __init__(self, text: str, reason: str) -> None:
        self.text = text
        self.reason = reason
        super().__init__(f"{reason} (in {text!r})")


def parse_filter(text: str) -> dict[str, Any] | None:
    """The API filter of one filter-bar line; None for an empty line."""
    _check_joiners(text)
    clauses = [_clause(part) for part in _AND.split(text.strip()) if part.strip()]
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _check_joiners(text: str) -> None:
    """Refuse an 'and'/'or' with no clause on one side, and 'or' between two."""
    dangling = _DANGLING.search(text)
    if dangling:
        word = dangling[1] or dangling[2]
        column = dangling.start(1 if dangling[1] else 2) + 1
        raise FilterError(text, f"{word!r} at column {column} joins no clause; "
                          "finish the clause after it or remove it")
    either = _OR.search(text)
    if either:
        raise FilterError(text, f"{either[1]!r} at column {either.start(1) + 1}: "
                          "the filter bar joins clauses with 'and' only")


def _clause(part: str) -> dict[str, Any]:
    found = _CLAUSE.match(part)
    if not found:
        return _search(_unquote(part.strip()))
    name = canonical_field(found["field"], part)
    raw = found["value"].strip()
    if not raw:
        raise FilterError(part, f"no value after {found['op']!r}")
    if found["op"] in ("~", "!~"):
        contains = {"$regex": re.escape(_unquote(raw)), "$options": "i"}
        return {name: contains if found["op"] == "~" else {"$not": contains}}
    return {name: {OPERATORS[found["op"]]: _literal(raw)}}


def _search(words: str) -> dict[str, Any]:
    pattern = {"$regex": re.escape(words), "$options": "i"}
    return {"$or": [{name: dict(pattern)} for name in SEARCHED]}


def canonical_field(name: str, text: str = "") -> str:
    """`summary.x` as `summary_metrics.x`; unknown names raise FilterError."""
    if name.startswith("summary."):
        name = "summary_metrics." + name[len("summary."):]
    if name == "name":
        return "display_name"
    prefixed = name.startswith(("config.", "summary_metrics."))
    if (prefixed and not name.endswith(".")) or name in FIELDS:
        return name
    raise FilterError(
        text or name, f"unknown field {name!r}; use config.KEY, "
        f"summary_metrics.KEY (or summary.KEY) or one of {', '.join(FIELDS)}",
    )


def _unquote(raw: str) -> str:
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
        try:
            return shlex.split(raw)[0]
        except ValueError:
            return raw[1:-1]
    return raw


def _literal(raw: str) -> Any:
    lowered = raw.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("null", "none"):
        return None
    if raw[:1] not in "'\"":
        try:
            number = float(raw)
        except ValueError:
            return raw
        return int(number) if number.is_integer() and "." not in raw else number
    return _unquote(raw)


def group_column(by: str) -> tuple[str, dict[str, Any]]:
    """SQL for a grouping value on the run pivot, and its parameters."""
    if by in GROUPABLE:
        return "JSONExtractString(coalesce(fields[{g:String}], '\"\"'))", {"g": by}
    if by.startswith("config.") and len(by) > len("config."):
        column = "coalesce(config[{g:String}], '')"
        text = f"if(JSONType({column}) = 'String', JSONExtractString({column}), " \
               f"{column})"
        return text, {"g": by[len("config."):]}
    raise FilterError(by, f"group by one of {', '.join(GROUPABLE)} or config.KEY")


# The table's own orders, on the columns of `search.PIVOT`. A missing value
# is NULL so that NULLS LAST keeps such runs at the end either way.
_STATE = "coalesce(nullIf(fields['state'], ''), '\"running\"')"
_END = ("coalesce(toFloat64OrNull(fields['finished_at']), "
        "toFloat64OrNull(fields['heartbeat_at']), created_at)")
TABLE_ORDERS = {
    "runtime": f"if({_STATE} = '\"running\"', toFloat64(now64(3)), {_END}) "
               "- created_at",
    "host": "nullIf(JSONExtractString(fields['metadata'], 'host'), '')",
    "tags": "nullIf(arrayStringConcat(arraySort(JSONExtract(coalesce(nullIf("
            "fields['tags'], ''), '[]'), 'Array(String)')), ','), '')",
    "id": "run_id",
}


def order_sql(sort: str) -> Compiled:
    """ORDER BY terms for a table sort such as ``-runtime`` or ``config.lr``.

    Raises:
        filters.FilterError: the sort names no column.
    """
    descending = sort.startswith("-")
    name = canonical_order(sort.lstrip("+-") or "created_at")
    if name not in TABLE_ORDERS:
        return compile_order(("-" if descending else "+") + name)
    direction = "DESC" if descending else "ASC"
    return Compiled(f"{TABLE_ORDERS[name]} {direction} NULLS LAST, run_id ASC")


def canonical_order(name: str) -> str:
    """The API's name of a sortable column; the table's own names pass as is."""
    return name if name in TABLE_ORDERS else canonical_field(name)


def table_page(
    storage: Storage, public_url: str, where: tuple[str, str, dict[str, Any] | None],
    sort: str, limit: int, offset: int,
) -> dict[str, Any]:
    """One page of a project's runs (``where`` is entity, project, API filter).

    Raises:
        FilterError, filters.FilterError: the filter or sort cannot be used.
    """
    entity, project, filters = where
    condition = compile_filter(filters)
    order = order_sql(sort)
    params = {"e": entity, "p": project, **condition.params, **order.params}
    matching = (f"SELECT * FROM ({PIVOT}) WHERE tombstones = 0 "
                f"AND ({condition.sql})")
    found = storage.query(
        f"SELECT run_id FROM ({matching}) ORDER BY {order.sql} "
        "LIMIT {limit:UInt64} OFFSET {offset:UInt64}",
        {**params, "limit": limit, "offset": offset},
    )
    total = storage.query(f"SELECT count() AS n FROM ({matching})", params)
    ids = [row["run_id"] for row in found]
    runs = RunReader(storage, public_url).many(entity, project, ids)
    return {"runs": runs, "total": int(total[0]["n"])}
