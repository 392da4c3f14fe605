"""Mistakes in log() calls: each kind gets its own warning, nothing else is lost."""

# ruff: noqa: F811 - the `workdir` fixture is imported from sdk_support

from __future__ import annotations

import warnings

import pytest
from lodestar import LodestarWarning, history
from lodestar._run import MAX_FAULT_WARNINGS
from sdk_support import by_step, offline, workdir  # noqa: F401


def _messages(seen: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in seen if issubclass(w.category, LodestarWarning)]


def test_surrogate_key_keeps_every_other_row_of_its_batch(workdir):
    run = offline(workdir)
    with pytest.warns(LodestarWarning) as seen:
        for i in range(100):
            run.log({"loss": float(i)})
        run.log({"acc\udce9": 0.5, "loss": 100.0})
        run.log({"loss": 101.0})
        run.finish()
    stored = by_step(run)
    assert [stored[i]["loss"] for i in range(102)] == [float(i) for i in range(102)]
    assert stored[100] == {"acc\ufffd": 0.5, "loss": 100.0}
    assert _messages(seen) == [
        "key 'acc\\udce9' at step 100 holds an unpaired surrogate, which UTF-8 "
        "cannot store; it is stored as 'acc\ufffd' (each surrogate replaced by "
        "U+FFFD)"
    ]


def test_surrogate_in_text_value_is_replaced_and_named(workdir):
    run = offline(workdir)
    with pytest.warns(LodestarWarning, match="the text of key 'name' at step 1 "):
        run.log({"name": "ok", "n": 1})
        run.log({"name": "x\ud800y", "n": 2})
        run.finish()
    assert by_step(run) == {0: {"name": "ok", "n": 1}, 1: {"name": "x\ufffdy", "n": 2}}


def test_value_that_breaks_the_batch_drops_only_itself(workdir, monkeypatch):
    classify = history.classify

    def out_of_range(value):  # passes the checks, fails when the batch is built
        return (history.INT, 2**64) if value == "bad" else classify(value)

    monkeypatch.setattr(history, "classify", out_of_range)
    run = offline(workdir)
    with pytest.warns(LodestarWarning, match="key 'b' at step 2 was dropped: it "
                      "could not be encoded"):
        for i in range(5):
            run.log({"a": i, "b": "bad" if i == 2 else "fine"})
        run.finish()
    stored = by_step(run)
    assert stored[2] == {"a": 2}
    assert [stored[i] for i in (0, 1, 3, 4)] == [
        {"a": i, "b": "fine"} for i in (0, 1, 3, 4)
    ]


def test_each_kind_of_mistake_is_shown_once(workdir):
    run = offline(workdir)
    with pytest.warns(LodestarWarning) as seen:
        run.log({"loss": 1.0}, step="1")
        run.log({"loss": 2.0}, step=-5)
        run.log({"loss": 2.5}, step=-6)  # the same mistake again: not repeated
        run.log(["loss", 3.0])
        run.log("notadict")  # not a dict again: the same mistake
        run.log({"loss": 4.0})
        run.finish()
    assert _messages(seen) == [
        "lodestar could not record values: step='1' (str) is not a whole number; "
        "pass an int from 0 to 2**63-1 (training goes on)",
        "lodestar could not record values: step=-5 is outside 0 to 2**63-1; steps "
        "start at 0 (training goes on)",
        "lodestar could not record values: log() takes a dict of key → value, got "
        "list (training goes on)",
    ]
    assert by_step(run) == {0: {"loss": 4.0}}


def test_string_instead_of_dict_names_its_type(workdir):
    run = offline(workdir)
    with pytest.warns(LodestarWarning) as seen:
        run.log("notadict")
        run.finish()
    assert _messages(seen) == [
        "lodestar could not record values: log() takes a dict of key → value, got "
        "str (training goes on)"
    ]


def test_distinct_fault_warnings_stop_at_the_limit(workdir):
    run = offline(workdir)
    with pytest.warns(LodestarWarning) as seen:
        for i in range(MAX_FAULT_WARNINGS + 5):
            kind = type(f"Fault{i}", (RuntimeError,), {})  # a distinct kind each
            run._fault(kind(f"problem {i}"))
    shown = _messages(seen)
    assert len(shown) == MAX_FAULT_WARNINGS
    assert shown[-1].endswith("later ones go to the log only")
    run.finish()


@pytest.mark.parametrize("key", ["_step", "_runtime", "_timestamp"])
def test_reserved_keys_are_dropped_and_named(workdir, key):
    run = offline(workdir)
    hint = "pass step= to log() instead" if key == "_step" else "use another key"
    with pytest.warns(LodestarWarning) as seen:
        run.log({key: 99, "loss": 1.0})
        run.log({"loss": 2.0})
        run.finish()
    assert _messages(seen) == [
        f"key {key!r} at step 0 was dropped: _step, _runtime and _timestamp are "
        f"set by lodestar for every row; {hint}"
    ]
    assert by_step(run) == {0: {"loss": 1.0}, 1: {"loss": 2.0}}
    assert run.summary["_step"] == 1


def test_key_given_flat_and_nested_warns_that_the_later_wins(workdir):
    run = offline(workdir)
    with pytest.warns(LodestarWarning) as seen:
        run.log({"a.b": 1, "a": {"b": 2}, "c": {"d": 3}})
        run.finish()
    assert _messages(seen) == [
        "log() data holds key 'a.b' twice once nested dicts are flattened to dotted "
        "keys (as 'a.b' and as {'a': {'b': ...}}); the later one replaces the "
        "earlier (said once per key)"
    ]
    assert seen[0].filename == __file__  # points at the log() call
    assert by_step(run) == {0: {"a.b": 2, "c.d": 3}}


def test_key_with_control_character_is_dropped_at_its_step(workdir):
    run = offline(workdir)
    with pytest.warns(LodestarWarning) as seen:
        for i in range(3):
            run.log({"loss": float(i)})
        run.log({"ctl\tkey": 1.0, "ok": 2.0})
        run.finish()
    assert _messages(seen) == [
        "key 'ctl\\tkey' at step 3 was dropped: it holds a control character; use "
        "printable characters"
    ]
    assert by_step(run)[3] == {"ok": 2.0}


def test_list_mixing_a_histogram_and_a_number_says_what_to_do(workdir):
    import lodestar

    run = offline(workdir)
    with pytest.warns(LodestarWarning) as seen:
        run.log({"h": [lodestar.Histogram([1, 2]), 3], "ok": 1})
        run.finish()
    assert _messages(seen) == [
        "key 'h' at step 0 was dropped: a list holding a Histogram cannot be "
        "stored: a list may hold only numbers, bools, strings and lists of those; "
        "log each Histogram under a key of its own (a list is kept whole only "
        "when every item is an Image)"
    ]
    assert by_step(run) == {0: {"ok": 1}}
