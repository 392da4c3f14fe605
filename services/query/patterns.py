"""Which regular expressions the store can run, checked before a query.

Filters run ``$regex`` patterns in ClickHouse, whose engine is RE2. RE2 has
no lookaround, no backreferences, no possessive quantifiers or atomic
groups, and refuses repeat counts above 1,000 (nested counts multiply).
Python's `re` accepts all of these, so a pattern that passes `re.compile`
can still fail in the store. `re2_problem` names such a construct before the
query runs; `store_refusal` reads the store's own refusal for anything the
check does not know, so either way the caller gets a 400 that says what to
change instead of a 503.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_REPEAT = 1000
SYNTAX_URL = "https://github.com/google/re2/wiki/Syntax"
RE2_FLAGS = frozenset("imsU-")
GROUP_OPENERS = {
    "?=": "lookahead (?=...)",
    "?!": "negative lookahead (?!...)",
    "?<=": "lookbehind (?<=...)",
    "?<!": "negative lookbehind (?<!...)",
    "?>": "atomic group (?>...)",
    "?(": "conditional group (?(...)...)",
    "?#": "comment group (?#...)",
    "?P=": "named backreference (?P=name)",
}
ESCAPES = {
    "Z": "\\Z; use \\z or $ for the end of the text",
    "u": "\\u; write the character itself or \\x{HHHH}",
    "U": "\\U; write the character itself or \\x{HHHHHH}",
    "N": "\\N{...}; write the character itself or \\x{HHHH}",
    "g": "\\g; backreferences are not supported",
}
POSIX_CLASSES = frozenset({"alnum", "alpha", "ascii", "blank", "cntrl", "digit",
                           "graph", "lower", "print", "punct", "space", "upper",
                           "word", "xdigit"})
_REPEAT = re.compile(r"\{(\d*)(,?)(\d*)\}")
_REFUSAL = re.compile(r"cannot compile re2: (?P<pattern>.*?), error: "
                      r"(?P<reason>.*?)\. Look at", re.DOTALL)


@dataclass
class _Scan:
    """Where the scan of one pattern stands."""

    pattern: str
    at: int = 0
    groups: list[int] = field(default_factory=lambda: [1])
    last_weight: int = 1

    def peek(self, size: int = 1) -> str:
        return self.pattern[self.at:self.at + size]


def re2_problem(pattern: str) -> str | None:
    """Why RE2 would refuse `pattern` (which `re.compile` accepted), or None."""
    scan = _Scan(pattern)
    while scan.at < len(pattern):
        problem = _step(scan)
        if problem:
            return problem
    return None


def store_refusal(message: str) -> str | None:
    """A user's fix for the store's "cannot compile re2" error, or None."""
    if "CANNOT_COMPILE_REGEXP" not in message and "cannot compile re2" not in message:
        return None
    found = _REFUSAL.search(message)
    if not found:
        return f"the store cannot use this regular expression; see {SYNTAX_URL}"
    return (f"the regular expression {found['pattern']!r} cannot be used: "
            f"{found['reason']}; the store speaks RE2 ({SYNTAX_URL})")


def _step(scan: _Scan) -> str | None:
    char = scan.peek()
    if char == "\\":
        return _escape(scan)
    if char == "[":
        return _char_class(scan)
    if char == "(":
        return _open_group(scan)
    if char == ")":
        scan.at += 1
        scan.last_weight = scan.groups.pop() if len(scan.groups) > 1 else 1
        return None
    if char in "*+?":
        scan.at += 1
        return _after_quantifier(scan, scan.last_weight)
    repeat = _REPEAT.match(scan.pattern, scan.at) if char == "{" else None
    if repeat:
        return _repeat(scan, repeat)
    scan.at += 1
    scan.last_weight = 1
    return None


def _escape(scan: _Scan) -> str | None:
    letter = scan.peek(2)[1:]
    if not letter:
        return "a lone backslash ends the pattern; write \\\\ for a backslash"
    if letter in ESCAPES:
        return f"RE2 has no {ESCAPES[letter]}"
    if letter in "89" or (letter in "1234567" and not _octal_follows(scan)):
        return (f"backreferences such as \\{letter} are not supported; "
                "match the text again instead")
    scan.at += 2
    scan.last_weight = 1
    return None


def _octal_follows(scan: _Scan) -> bool:
    following = scan.pattern[scan.at + 2:scan.at + 3]
    return bool(following) and following in "01234567"


def _char_class(scan: _Scan) -> str | None:
    """Skip ``[...]``: nothing but escapes is special inside."""
    pattern = scan.pattern
    scan.at += 1
    if scan.peek() == "^":
        scan.at += 1
    if scan.peek() == "]":
        scan.at += 1
    while scan.at < len(pattern) and pattern[scan.at] != "]":
        if pattern.startswith("[:", scan.at):
            end = pattern.find(":]", scan.at + 2)
            name = pattern[scan.at + 2:end].lstrip("^") if end >= 0 else ""
            if end >= 0 and name not in POSIX_CLASSES:
                return (f"RE2 has no class [:{name}:]; use one of "
                        f"{', '.join(sorted(POSIX_CLASSES))}")
            scan.at = end + 2 if end >= 0 else scan.at + 1
        elif pattern[scan.at] == "\\":
            if pattern[scan.at + 1:scan.at + 2] in ESCAPES:
                return f"RE2 has no {ESCAPES[pattern[scan.at + 1]]}"
            scan.at += 2
        else:
            scan.at += 1
    scan.at += 1
    scan.last_weight = 1
    return None


def _open_group(scan: _Scan) -> str | None:
    after = scan.pattern[scan.at + 1:scan.at + 4]
    for opener, name in GROUP_OPENERS.items():
        if after.startswith(opener):
            return f"RE2 has no {name}"
    if after.startswith("?") and not after.startswith(("?P<", "?<", "?:")):
        flags = _inline_flags(scan.pattern, scan.at + 2)
        bad = sorted(set(flags) - RE2_FLAGS)
        if bad:
            return (f"RE2 has no inline flag {bad[0]!r}; use i, m, s or U "
                    "(or $options)")
        scan.at += 2 + len(flags)
    else:
        scan.at += 1
    scan.groups.append(1)
    return None


def _inline_flags(pattern: str, start: int) -> str:
    end = start
    while end < len(pattern) and pattern[end] not in ":)":
        end += 1
    return pattern[start:end]


def _repeat(scan: _Scan, found: re.Match[str]) -> str | None:
    low, _, high = found.groups()
    if not low:  # RE2 reads {,n} and {} as literal text
        scan.at = found.end()
        scan.last_weight = 1
        return None
    count = max(int(low or 0), int(high or 0))
    scan.at = found.end()
    weight = count * scan.last_weight
    if weight > MAX_REPEAT:
        nested = " (nested repeats multiply)" if count <= MAX_REPEAT else ""
        return (f"repeat count {found.group()} is over RE2's limit of "
                f"{MAX_REPEAT}{nested}; use a smaller count or + or *")
    return _after_quantifier(scan, weight)


def _after_quantifier(scan: _Scan, weight: int) -> str | None:
    if scan.peek() == "+":
        return "RE2 has no possessive quantifiers (*+, ++, ?+, {n}+); drop the +"
    if scan.peek() == "?":
        scan.at += 1
    scan.groups[-1] = max(scan.groups[-1], weight)
    scan.last_weight = 1
    return None
