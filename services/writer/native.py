"""Encode columns in ClickHouse's Native format: the fastest way into chDB.

A Native block is the column count and row count as varints, then for each
column its name, its type and its values. Numbers are packed little-endian
arrays (so NaN, ±Inf and the whole 64-bit range pass bit for bit); strings are
a varint length and the UTF-8 bytes. ClickHouse converts a `String` column into
a `LowCardinality(String)` one on insert, so the encoder only needs plain types.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import chain
from typing import Any

import numpy as np

NUMPY_TYPES = {
    "Float64": "<f8",
    "Int64": "<i8",
    "UInt64": "<u8",
    "Int32": "<i4",
    "UInt32": "<u4",
    "UInt8": "<u1",
}


class UnsupportedType(ValueError):
    def __init__(self, column: str, type_name: str) -> None:
        self.column = column
        self.type_name = type_name
        super().__init__(
            f"column {column!r} has type {type_name}; the Native encoder handles "
            f"String and {sorted(NUMPY_TYPES)} (and LowCardinality of them)"
        )


class Repeated(Sequence):
    """One value `count` times, without a list: entity, run, key columns."""

    def __init__(self, value: Any, size: int) -> None:
        self.value = value
        self.size = size

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self.value] * len(range(*index.indices(self.size)))
        if not -self.size <= index < self.size:
            raise IndexError(index)
        return self.value

    def __iter__(self) -> Iterator[Any]:
        return iter([self.value] * self.size)


class Pieces(Sequence):
    """Sequences one after another, encoded piece by piece."""

    def __init__(self, parts: list[Sequence[Any]]) -> None:
        self.parts = parts
        self._length = sum(len(part) for part in parts)

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index: Any) -> Any:
        return list(self)[index]

    def __iter__(self) -> Iterator[Any]:
        return chain.from_iterable(self.parts)


def varint(value: int) -> bytes:
    """LEB128, as ClickHouse writes lengths and counts."""
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def plain_type(type_name: str) -> str:
    """`LowCardinality(String)` -> `String`: what the encoder writes."""
    if type_name.startswith("LowCardinality(") and type_name.endswith(")"):
        return type_name[len("LowCardinality(") : -1]
    return type_name


def encode_block(columns: dict[str, Sequence[Any]], types: dict[str, str]) -> bytes:
    """One Native block holding `columns`, all of one length."""
    rows = len(next(iter(columns.values()))) if columns else 0
    parts = [varint(len(columns)), varint(rows)]
    for name, values in columns.items():
        if len(values) != rows:
            raise ValueError(
                f"column {name!r} has {len(values)} values; the others have {rows}"
            )
        type_name = plain_type(types[name])
        parts.append(_string(name))
        parts.append(_string(type_name))
        parts.append(_values(name, type_name, values))
    return b"".join(parts)


def _string(text: str) -> bytes:
    raw = text.encode("utf-8")
    return varint(len(raw)) + raw


def _values(name: str, type_name: str, values: Sequence[Any]) -> bytes:
    if type_name == "String":
        return _strings(values)
    dtype = NUMPY_TYPES.get(type_name)
    if dtype is None:
        raise UnsupportedType(name, type_name)
    if isinstance(values, Repeated):
        return np.full(values.size, values.value, dtype=dtype).tobytes()
    if isinstance(values, Pieces):
        return b"".join(_values(name, type_name, part) for part in values.parts)
    return np.asarray(values, dtype=dtype).tobytes()


def _strings(values: Sequence[str]) -> bytes:
    if isinstance(values, Repeated):
        return _string(values.value) * values.size
    if isinstance(values, Pieces):
        return b"".join(_strings(part) for part in values.parts)
    # Columns such as entity, project or key repeat a few values many times:
    # encode each distinct value once and join the cached pieces.
    encoded = {value: _string(value) for value in set(values)}
    return b"".join(map(encoded.__getitem__, values))
