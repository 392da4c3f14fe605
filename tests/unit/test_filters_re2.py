"""Patterns RE2 refuses, metrics ordered against text, and filter-bar joiners
are caught before any SQL runs, with messages that name the fix."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest
from lodestar_server.query import dashboard_table
from lodestar_server.query.filters import FilterError, compile_filter
from lodestar_server.query.patterns import re2_problem, store_refusal
from lodestar_server.writer.storage import ChdbStorage, StorageError


@pytest.mark.parametrize(("pattern", "problem"), [
    ("(?=exp)", "RE2 has no lookahead (?=...)"),
    ("a(?!b)", "RE2 has no negative lookahead (?!...)"),
    ("(?<=a)b", "RE2 has no lookbehind (?<=...)"),
    ("(?<!a)b", "RE2 has no negative lookbehind (?<!...)"),
    ("(?>ab)", "RE2 has no atomic group (?>...)"),
    ("(?#note)a", "RE2 has no comment group (?#...)"),
    ("(?P<n>a)(?P=n)", "RE2 has no named backreference (?P=name)"),
    ("(a)\\1", "backreferences such as \\1 are not supported; match the text "
     "again instead"),
    ("a{1001}", "repeat count {1001} is over RE2's limit of 1000; use a smaller "
     "count or + or *"),
    ("a{2,1001}", "repeat count {2,1001} is over RE2's limit of 1000; use a "
     "smaller count or + or *"),
    ("((a{2}){2}){251}", "repeat count {251} is over RE2's limit of 1000 (nested "
     "repeats multiply); use a smaller count or + or *"),
    ("a++", "RE2 has no possessive quantifiers (*+, ++, ?+, {n}+); drop the +"),
    ("a{2}+", "RE2 has no possessive quantifiers (*+, ++, ?+, {n}+); drop the +"),
    ("end\\Z", "RE2 has no \\Z; use \\z or $ for the end of the text"),
    ("\\u00e9", "RE2 has no \\u; write the character itself or \\x{HHHH}"),
    ("(?x)a b", "RE2 has no inline flag 'x'; use i, m, s or U (or $options)"),
    ("[[:foo:]]", "RE2 has no class [:foo:]; use one of alnum, alpha, ascii, "
     "blank, cntrl, digit, graph, lower, print, punct, space, upper, word, "
     "xdigit"),
])
def test_constructs_python_accepts_but_re2_refuses_are_named(
    pattern: str, problem: str
) -> None:
    with warnings.catch_warnings():  # "possible nested set" for [[:foo:]]
        warnings.simplefilter("ignore", FutureWarning)
        re.compile(pattern)

    assert re2_problem(pattern) == problem


@pytest.mark.parametrize("pattern", [
    "^exp-(o|x)ne$", "a{1000}", "(?:a{10}){100}", "a{1000,}", "a{,3}", "x*?",
    "x{2}?", "(?P<n>a)", "(?i:a)", "(?-i)a", "(?s).*", "\\d+\\.\\d*",
    "[(?=]", "[]a]", "[^]{1001}]", "[[:alpha:][:^digit:]]", "\\0", "\\177",
    re.escape("a b#c&~-é\\"), "(a|b{1000})+",
])
def test_patterns_re2_accepts_pass(pattern: str) -> None:
    assert re2_problem(pattern) is None


def test_the_store_refusal_names_the_pattern_and_reason(tmp_path: Path) -> None:
    storage = ChdbStorage(str(tmp_path / "chdb"))
    try:
        with pytest.raises(StorageError) as refused:
            storage.query("SELECT match('x', {p:String}) AS m", {"p": "[[:foo:]]"})
    finally:
        storage.close()

    assert store_refusal(str(refused.value)) == (
        "the regular expression '[[:foo:]]' cannot be used: invalid character "
        "class range: [:foo:]; the store speaks RE2 "
        "(https://github.com/google/re2/wiki/Syntax)"
    )
    assert store_refusal("Code: 241. DB::Exception: Memory limit exceeded") is None


def test_a_regex_filter_re2_refuses_names_the_place_and_the_fix() -> None:
    with pytest.raises(FilterError) as caught:
        compile_filter({"display_name": {"$regex": "(?=exp)"}})

    assert caught.value.where == "filters.display_name"
    assert caught.value.problem == ("$regex '(?=exp)' cannot be used: RE2 has no "
                                    "lookahead (?=...)")


def test_groups_nested_past_pythons_limit_are_a_filter_error() -> None:
    with pytest.raises(FilterError) as caught:
        compile_filter({"name": {"$regex": "(" * 1001 + "a" + ")" * 1001}})

    assert caught.value.problem.endswith("...' nests groups too deeply")


@pytest.mark.parametrize("operand", ["abc", "0.5", None, True, [1]])
@pytest.mark.parametrize("op", ["$lt", "$lte", "$gt", "$gte"])
def test_ordering_a_metric_needs_a_number(op: str, operand: object) -> None:
    with pytest.raises(FilterError) as caught:
        compile_filter({"summary_metrics.acc": {op: operand}})

    assert caught.value.where == f"filters.summary_metrics.acc.{op}"
    assert caught.value.problem == (f"compare summary_metrics.acc with a number: "
                                    f"{op} was given {operand!r}, which orders "
                                    "no metric")


def test_metrics_equal_text_and_config_orders_text() -> None:
    compile_filter({"summary_metrics.best": "resnet"})
    compile_filter({"summary_metrics.best": {"$ne": "resnet", "$in": ["a"]}})
    compile_filter({"config.optimizer": {"$gt": "adam"}})
    compile_filter({"summary_metrics.acc": {"$not": {"$gte": 0.5}}})


@pytest.mark.parametrize(("text", "reason"), [
    ("tags = best or", "'or' at column 13 joins no clause; finish the clause "
     "after it or remove it"),
    ("tags = best and", "'and' at column 13 joins no clause; finish the clause "
     "after it or remove it"),
    ("state = running &&", "'&&' at column 17 joins no clause; finish the clause "
     "after it or remove it"),
    ("or state = running", "'or' at column 1 joins no clause; finish the clause "
     "after it or remove it"),
    ("tags = best or state = running", "'or' at column 13: the filter bar joins "
     "clauses with 'and' only"),
    ("tags = a || group = b", "'||' at column 10: the filter bar joins clauses "
     "with 'and' only"),
])
def test_the_filter_bar_names_a_joiner_without_a_clause(
    text: str, reason: str
) -> None:
    with pytest.raises(dashboard_table.FilterError) as caught:
        dashboard_table.parse_filter(text)

    assert caught.value.reason == reason
    assert caught.value.text == text


def test_the_filter_bar_keeps_or_inside_values() -> None:
    assert dashboard_table.parse_filter("notes ~ this or that") == {
        "notes": {"$regex": "this\\ or\\ that", "$options": "i"}}
    assert dashboard_table.parse_filter("tags = 'x or'") == {"tags": {"$eq": "x or"}}
    assert dashboard_table.parse_filter("state = running and tags = b") == {
        "$and": [{"state": {"$eq": "running"}}, {"tags": {"$eq": "b"}}]}
