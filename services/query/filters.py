"""MongoDB-style run filters and orders, compiled to parameterised SQL.

A filter is the dict people already write for other trackers::

    {"$and": [{"config.lr": {"$lt": 0.01}},
              {"$or": [{"state": "finished"}, {"tags": {"$in": ["best"]}}]}]}

Logical operators: ``$and``, ``$or``, ``$nor`` (lists of filters) and
``$not`` (a filter, or an operator dict under a field). Field operators:
``$eq``, ``$ne``, ``$lt``, ``$lte``, ``$gt``, ``$gte``, ``$in``, ``$nin``,
``$exists``, ``$regex`` (with ``$options: "i"``). A plain value means
``$eq``. Fields: ``created_at`` and ``heartbeat_at`` (ISO strings, with or
without a time zone, taken as UTC without one; or unix seconds), ``state``,
``display_name`` (also ``name``), ``tags`` (a value matches a run holding that
tag), ``group``, ``job_type``, ``notes``, ``user``, ``host``,
``config.<key>`` (also ``config.<key>.value``) and ``summary_metrics.<key>``,
where a key may reach into nested dicts with dots.

Nothing the user writes becomes SQL text: field names are looked up in a
fixed table or passed as parameters, and every operand is a parameter. A
``$ne`` or ``$nin`` matches runs that lack the field, as in MongoDB.

The compiled SQL reads the columns of the run pivot (`search.PIVOT`):
``run_id``, ``created_at`` (Float64), and the maps ``fields``, ``config``
and ``summary`` from a field or key to its latest JSON text.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .patterns import re2_problem

COMPARE = {"$eq": "=", "$ne": "!=", "$lt": "<", "$lte": "<=", "$gt": ">",
           "$gte": ">="}
ORDERING = ("$lt", "$lte", "$gt", "$gte")
FIELD_OPERATORS = (*COMPARE, "$in", "$nin", "$exists", "$regex", "$options",
                   "$not")
LOGICAL = ("$and", "$or", "$nor", "$not")
SCALAR_FIELDS = {"state": "state", "display_name": "name", "name": "name",
                 "group": "group", "job_type": "job_type", "notes": "notes",
                 "user": "user"}
TIME_FIELDS = ("created_at", "heartbeat_at")
PREFIXES = {"config.": "config", "summary_metrics.": "summary"}
MAX_DEPTH = 32


class FilterError(ValueError):
    """A filter or order that cannot be used; the message says how to fix it."""

    def __init__(self, where: str, problem: str) -> None:
        self.where = where
        self.problem = problem
        super().__init__(f"{where}: {problem}" if where else problem)


@dataclass
class Compiled:
    """SQL text with ``{name:Type}`` placeholders, and their values."""

    sql: str
    params: dict[str, Any] = field(default_factory=dict)


class _Params:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.values: dict[str, Any] = {}

    def add(self, value: Any, kind: str) -> str:
        name = f"{self.prefix}{len(self.values)}"
        self.values[name] = value
        return "{" + name + ":" + kind + "}"


def compile_filter(filters: dict[str, Any] | None) -> Compiled:
    """The SQL condition of `filters` (``1`` for none).

    Raises:
        FilterError: an unknown operator or field, or a malformed filter.
    """
    if filters is None or filters == {}:
        return Compiled("1")
    params = _Params("f")
    sql = _Filter(params).document(filters, "filters", 0)
    return Compiled(sql, params.values)


def compile_order(order: str | None) -> Compiled:
    """ORDER BY terms for ``[+|-]created_at|heartbeat_at|config.K|summary_metrics.K``.

    Raises:
        FilterError: the order names an unknown field.
    """
    text = (order or "+created_at").strip()
    descending = text.startswith("-")
    name = text.lstrip("+-")
    direction = "DESC" if descending else "ASC"
    params = _Params("o")
    if name == "created_at":
        return Compiled(f"created_at {direction}, run_id ASC")
    if name in ("heartbeat_at", *SCALAR_FIELDS) or _prefixed(name):
        raw = _Filter(params).raw(name, "order")
        sql = (f"toFloat64OrNull({raw}) {direction} NULLS LAST, "
               f"{raw} {direction} NULLS LAST, run_id ASC")
        return Compiled(sql, params.values)
    raise FilterError(
        "order", f"cannot order by {order!r}; use created_at, heartbeat_at, "
        "config.<key> or summary_metrics.<key>, with + or - in front",
    )


def _prefixed(name: str) -> bool:
    return any(name.startswith(p) and len(name) > len(p) for p in PREFIXES)


class _Filter:
    """Compiles one filter document; every operand goes to `params`."""

    def __init__(self, params: _Params) -> None:
        self.params = params

    def document(self, doc: Any, where: str, depth: int) -> str:
        if depth > MAX_DEPTH:
            raise FilterError(where, f"nested deeper than {MAX_DEPTH} levels")
        if not isinstance(doc, dict):
            raise FilterError(where, f"a filter must be a dict, not {_kind(doc)}")
        if not doc:
            return "1"
        parts = [self._entry(key, value, f"{where}.{key}", depth)
                 for key, value in doc.items()]
        return _join(parts, "AND")

    def _entry(self, key: Any, value: Any, where: str, depth: int) -> str:
        if not isinstance(key, str):
            raise FilterError(where, f"field names are strings, not {_kind(key)}")
        if key.startswith("$"):
            return self._logical(key, value, where, depth)
        return self._field(key, value, where, depth)

    def _logical(self, op: str, value: Any, where: str, depth: int) -> str:
        if op == "$not":
            return f"NOT coalesce({self.document(value, where, depth + 1)}, 0)"
        if op not in LOGICAL:
            raise FilterError(where, _unknown(op, LOGICAL))
        if not isinstance(value, list) or not value:
            raise FilterError(where, f"{op} takes a non-empty list of filters")
        parts = [self.document(item, f"{where}[{i}]", depth + 1)
                 for i, item in enumerate(value)]
        if op == "$and":
            return _join(parts, "AND")
        joined = _join([f"coalesce({p}, 0)" for p in parts], "OR")
        return joined if op == "$or" else f"NOT {joined}"

    def _field(self, name: str, value: Any, where: str, depth: int) -> str:
        if not isinstance(value, dict):
            return self._operator(name, "$eq", value, where)
        if not value:
            raise FilterError(where, "an empty operator dict; use {'$eq': {}}")
        if "$options" in value and "$regex" not in value:
            raise FilterError(where, "$options goes with $regex")
        ops = [op for op in value if op != "$options"]
        unknown = [op for op in ops if op not in FIELD_OPERATORS]
        if unknown:
            raise FilterError(where, _unknown(unknown[0], FIELD_OPERATORS))
        parts = []
        for op in ops:
            if op == "$not":
                inner = self._not(name, value[op], f"{where}.$not", depth)
                parts.append(f"NOT coalesce({inner}, 0)")
            elif op == "$regex":
                parts.append(self._regex(name, value, where))
            else:
                parts.append(self._operator(name, op, value[op], f"{where}.{op}"))
        return _join(parts, "AND")

    def _not(self, name: str, value: Any, where: str, depth: int) -> str:
        if depth > MAX_DEPTH:
            raise FilterError(where, f"nested deeper than {MAX_DEPTH} levels")
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and k.startswith("$") for k in value
        ):
            raise FilterError(where, "$not takes an operator dict, e.g. "
                              "{'$not': {'$gt': 3}}")
        return self._field(name, value, where, depth + 1)

    def _operator(self, name: str, op: str, operand: Any, where: str) -> str:
        if op == "$exists":
            if not isinstance(operand, bool):
                raise FilterError(where, "$exists takes true or false")
            present = self._present(name, where)
            return present if operand else f"NOT {present}"
        if op in ("$in", "$nin"):
            return self._membership(name, op, operand, where)
        if name in TIME_FIELDS:
            return self._time(name, op, operand, where)
        if name == "tags":
            return self._tags(op, operand, where)
        if name.startswith("summary_metrics.") and op in ORDERING:
            _require_number(name, op, operand, where)
        return self._compare(self.raw(name, where), op, operand, where)

    # ---- values -------------------------------------------------------------

    def raw(self, name: str, where: str) -> str:
        """SQL for the field's latest JSON text, NULL when the run lacks it."""
        if name in SCALAR_FIELDS or name in ("tags", "heartbeat_at"):
            return _map_value("fields", self.params.add(
                SCALAR_FIELDS.get(name, name), "String"))
        if name == "host":
            metadata = _map_value("fields", "'metadata'")
            return f"nullIf(JSONExtractRaw(coalesce({metadata}, ''), 'host'), '')"
        for prefix, column in PREFIXES.items():
            if name.startswith(prefix) and len(name) > len(prefix):
                return self._nested(column, name[len(prefix):], where)
        raise FilterError(where, f"unknown field {name!r}; use one of "
                          f"{sorted([*SCALAR_FIELDS, *TIME_FIELDS, 'tags', 'host'])}, "
                          "config.<key> or summary_metrics.<key>")

    def _nested(self, column: str, path: str, where: str) -> str:
        """The value at `path`: a whole (dotted) key, or a key then nested keys."""
        parts = path.split(".")
        if any(not part for part in parts):
            raise FilterError(where, f"key path {path!r} has an empty part")
        options = [parts]
        if column == "config" and len(parts) > 1 and parts[-1] == "value":
            options.append(parts[:-1])  # config.<key>.value, as others write it
        candidates = []
        for option in options:
            for cut in range(len(option), 0, -1):
                key = self.params.add(".".join(option[:cut]), "String")
                value = _map_value(column, key)
                inner = [self.params.add(p, "String") for p in option[cut:]]
                if inner:
                    value = (f"nullIf(JSONExtractRaw(coalesce({value}, ''), "
                             f"{', '.join(inner)}), '')")
                candidates.append(value)
        return f"coalesce({', '.join(candidates)})"

    def _present(self, name: str, where: str) -> str:
        if name == "created_at":
            return "1"
        return f"({self.raw(name, where)} IS NOT NULL)"

    def _compare(self, raw: str, op: str, operand: Any, where: str) -> str:
        if op == "$ne":  # as in MongoDB, a run without the field matches
            return f"NOT coalesce({self._compare(raw, '$eq', operand, where)}, 0)"
        sign = COMPARE[op]
        if operand is None or isinstance(operand, bool):
            if op != "$eq":
                raise FilterError(where, f"{op} cannot compare with {operand!r}")
            literal = {None: "null", True: "true", False: "false"}[operand]
            return f"coalesce({raw}, 'null') = '{literal}'"
        if isinstance(operand, (int, float)):
            number = self.params.add(_finite(operand, where), "Float64")
            return f"toFloat64OrNull({raw}) {sign} {number}"
        if isinstance(operand, str):
            text = self.params.add(operand, "String")
            return f"{_json_string(raw)} {sign} {text}"
        raise FilterError(where, f"cannot compare with {_kind(operand)}; use a "
                          "number, string, boolean or null")

    def _membership(self, name: str, op: str, operand: Any, where: str) -> str:
        if not isinstance(operand, list):
            raise FilterError(where, f"{op} takes a list, not {_kind(operand)}")
        if name == "tags":
            return self._tags(op, operand, where)
        if not operand:
            return "0" if op == "$in" else "1"
        parts = [f"coalesce({self._operator(name, '$eq', item, where)}, 0)"
                 for item in operand]
        joined = _join(parts, "OR")
        return joined if op == "$in" else f"NOT {joined}"

    def _time(self, name: str, op: str, operand: Any, where: str) -> str:
        if op == "$regex":
            raise FilterError(where, f"$regex does not apply to {name}")
        column = ("created_at" if name == "created_at"
                  else f"toFloat64OrNull({self.raw(name, where)})")
        seconds = self.params.add(to_unix(operand, where), "Float64")
        if op == "$ne":
            return f"NOT coalesce({column} = {seconds}, 0)"
        return f"{column} {COMPARE[op]} {seconds}"

    def _tags(self, op: str, operand: Any, where: str) -> str:
        tags = f"JSONExtract(coalesce({self.raw('tags', where)}, '[]'), " \
               "'Array(String)')"
        if op in ("$in", "$nin"):
            if not all(isinstance(t, str) for t in operand):
                raise FilterError(where, f"{op} on tags takes a list of strings")
            found = f"hasAny({tags}, {self.params.add(operand, 'Array(String)')})"
            return found if op == "$in" else f"NOT {found}"
        if op in ("$eq", "$ne") and isinstance(operand, list):
            if not all(isinstance(t, str) for t in operand):
                raise FilterError(where, "tags are compared with strings")
            same = f"{tags} = {self.params.add(operand, 'Array(String)')}"
            return same if op == "$eq" else f"NOT ({same})"
        if op in ("$eq", "$ne") and isinstance(operand, str):
            found = f"has({tags}, {self.params.add(operand, 'String')})"
            return found if op == "$eq" else f"NOT {found}"
        raise FilterError(where, f"tags take $eq, $ne, $in, $nin, $exists or "
                          f"$regex with strings, not {op} with {_kind(operand)}")

    def _regex(self, name: str, spec: dict[str, Any], where: str) -> str:
        pattern, options = spec["$regex"], spec.get("$options", "")
        if not isinstance(pattern, str) or not isinstance(options, str):
            raise FilterError(where, "$regex takes a pattern string "
                              "(and $options a string such as 'i')")
        if set(options) - {"i", "m", "s"}:
            raise FilterError(where, f"$options {options!r}: use i, m or s")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise FilterError(where, f"$regex {_shown(pattern)} is not valid: "
                              f"{exc}") from exc
        except RecursionError as exc:
            raise FilterError(where, f"$regex {_shown(pattern)} nests groups too "
                              "deeply") from exc
        problem = re2_problem(pattern)
        if problem:
            raise FilterError(where, f"$regex {_shown(pattern)} cannot be used: "
                              f"{problem}")
        flags = f"(?{options})" if options else ""
        param = self.params.add(flags + pattern, "String")
        if name in TIME_FIELDS:
            raise FilterError(where, f"$regex does not apply to {name}")
        if name == "tags":
            tags = f"JSONExtract(coalesce({self.raw('tags', where)}, '[]'), " \
                   "'Array(String)')"
            return f"arrayExists(t -> match(t, {param}), {tags})"
        return f"coalesce(match({_json_string(self.raw(name, where))}, {param}), 0)"


def to_unix(value: Any, where: str = "filters") -> float:
    """Unix seconds of an ISO time (UTC when it has no zone) or of a number.

    Raises:
        FilterError: the value is neither.
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _finite(value, where)
    if not isinstance(value, str):
        raise FilterError(where, f"times are ISO strings or unix seconds, "
                          f"not {_kind(value)}")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise FilterError(where, f"{value!r} is not an ISO time such as "
                          "'2024-05-01T12:00:00+02:00'") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def _require_number(name: str, op: str, operand: Any, where: str) -> None:
    """Metrics are ordered as numbers, so text there would match nothing."""
    if isinstance(operand, (int, float)) and not isinstance(operand, bool):
        return
    raise FilterError(where, f"compare {name} with a number: {op} was given "
                      f"{operand!r}, which orders no metric")


def _shown(pattern: str, limit: int = 80) -> str:
    return repr(pattern if len(pattern) <= limit else pattern[:limit] + "...")


def _finite(value: float, where: str) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise FilterError(where, f"{value!r} is not a finite number")
    return number


def _map_value(column: str, key: str) -> str:
    return f"if(mapContains({column}, {key}), {column}[{key}], NULL)"


def _json_string(raw: str) -> str:
    return f"if(JSONType(coalesce({raw}, '')) = 'String', " \
           f"JSONExtractString(coalesce({raw}, '')), NULL)"


def _join(parts: list[str], word: str) -> str:
    if len(parts) == 1:
        return parts[0]
    return "(" + f" {word} ".join(f"({p})" for p in parts) + ")"


def _unknown(op: Any, allowed: tuple[str, ...]) -> str:
    return f"unknown operator {op!r}; use one of {', '.join(allowed)}"


def _kind(value: Any) -> str:
    return type(value).__name__
