"""Names of entities, projects and runs, and their encoding for NATS.

Any project name works: names become subject tokens and KV keys through
`encode_token`, which keeps ``[A-Za-z0-9_-]`` and writes every other UTF-8
byte as ``=XX``. The result is valid both as a subject token and as a key.
"""

from __future__ import annotations

import re

_SAFE = re.compile(r"[A-Za-z0-9_-]")
_ENTITY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MAX_NAME = 128


class InvalidName(ValueError):
    """A name that cannot identify an entity, project or run."""

    def __init__(self, kind: str, value: str, rule: str) -> None:
        self.kind = kind
        self.value = value
        self.rule = rule
        super().__init__(f"invalid {kind} name {value!r}: {rule}")


def encode_token(name: str) -> str:
    """Encode any non-empty name as one NATS subject token or KV key part."""
    out = []
    for char in name:
        if _SAFE.fullmatch(char):
            out.append(char)
        else:
            out.extend(f"={byte:02X}" for byte in char.encode("utf-8"))
    return "".join(out)


def decode_token(token: str) -> str:
    """Invert `encode_token`."""
    raw = bytearray()
    i = 0
    while i < len(token):
        if token[i] == "=":
            raw.append(int(token[i + 1 : i + 3], 16))
            i += 3
        else:
            raw.extend(token[i].encode("ascii"))
            i += 1
    return raw.decode("utf-8")


def check_entity(value: str) -> str:
    """Entities (users and teams) are lowercase slugs, as in URLs."""
    if not _ENTITY.match(value):
        raise InvalidName(
            "entity", value, "use 1-64 of a-z, 0-9, '_' and '-', starting "
            "with a letter or digit"
        )
    return value


def check_free_name(kind: str, value: str) -> str:
    """Projects and run ids: any printable text up to MAX_NAME characters."""
    if not value or len(value) > MAX_NAME:
        raise InvalidName(kind, value, f"use 1-{MAX_NAME} characters")
    if any(ord(c) < 32 or c in "/\\" for c in value):
        raise InvalidName(kind, value, "no '/', '\\' or control characters")
    if value in (".", ".."):
        raise InvalidName(kind, value, "'.' and '..' are path steps, not names")
    return value
