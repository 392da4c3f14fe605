"""Just enough of the protobuf wire format to read TensorBoard event files.

TensorBoard's messages are TensorFlow's, which the SDK does not ship; the few
fields an import needs are read straight off the wire instead.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5


class WireError(ValueError):
    """The bytes are not a protobuf message."""


def fields(data: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """(field number, wire type, value) of every field, in order.

    Varints come as ints, length-delimited fields and fixed-width values as
    bytes.

    Raises:
        WireError: the bytes end inside a field or use an unknown wire type.
    """
    pos, end = 0, len(data)
    while pos < end:
        key, pos = varint(data, pos)
        number, kind = key >> 3, key & 7
        if kind == VARINT:
            value, pos = varint(data, pos)
            yield number, kind, value
            continue
        size = {FIXED64: 8, FIXED32: 4}.get(kind)
        if kind == LENGTH:
            size, pos = varint(data, pos)
        if size is None or pos + size > end:
            raise WireError(f"field {number}: wire type {kind} does not fit")
        yield number, kind, data[pos:pos + size]
        pos += size


def varint(data: bytes, pos: int) -> tuple[int, int]:
    """The varint at `pos` and the position after it."""
    result = shift = 0
    while True:
        if pos >= len(data):
            raise WireError("the message ends inside a varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def as_double(raw: int | bytes) -> float:
    return struct.unpack("<d", _bytes(raw))[0]


def as_float(raw: int | bytes) -> float:
    return struct.unpack("<f", _bytes(raw))[0]


def as_signed(value: int | bytes) -> int:
    """An int64 field's value (negative numbers are 10-byte varints)."""
    number = int(value) if isinstance(value, int) else 0
    return number - (1 << 64) if number >= 1 << 63 else number


def packed(raw: int | bytes, fmt: str) -> list[float]:
    """A packed repeated float (``f``) or double (``d``) field."""
    data = _bytes(raw)
    width = struct.calcsize(fmt)
    return list(struct.unpack(f"<{len(data) // width}{fmt}", data))


def _bytes(raw: int | bytes) -> bytes:
    if isinstance(raw, int):
        raise WireError("expected bytes, got a varint")
    return raw
