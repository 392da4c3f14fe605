"""The write-ahead log: length-prefixed protobuf records with checksums.

Layout: the magic ``LDSTWAL1``, then records of a 4-byte little-endian
length, a 4-byte little-endian CRC-32 of the payload, and the payload. The
first record is a `WalHeader`, every other one an `Event` numbered from 1.

A record cut short at the end of the file is a write in progress (or torn by
a crash): readers stop before it, and a tailing reader picks it up once it is
complete. A checksum that does not match is corruption: `WalCorrupt`.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

from ._proto import events_pb2

MAGIC = b"LDSTWAL1"
_FRAME = struct.Struct("<II")


class WalError(Exception):
    """Base of the WAL errors."""


class WalCorrupt(WalError):
    def __init__(self, path: Path, offset: int, reason: str) -> None:
        self.path = path
        self.offset = offset
        self.reason = reason
        super().__init__(f"WAL {path} is corrupt at byte {offset}: {reason}")


def frame(payload: bytes) -> bytes:
    """One record as it is stored."""
    return _FRAME.pack(len(payload), zlib.crc32(payload)) + payload


class WalWriter:
    """Appends records. Used by one thread; not shared across processes."""

    def __init__(self, path: Path, header: events_pb2.WalHeader) -> None:
        self.path = path
        self._file = open(path, "ab", buffering=0)
        if self._file.tell() == 0:
            self._file.write(MAGIC + frame(header.SerializeToString()))

    def append(self, events: list[events_pb2.Event]) -> None:
        """Write events with one system call; the OS keeps them if we die."""
        data = b"".join(frame(e.SerializeToString()) for e in events)
        self._file.write(data)

    def sync(self) -> None:
        """Force the records to disk (survives a power loss, not only a kill)."""
        os.fsync(self._file.fileno())

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()


class WalReader:
    """Reads records from an offset on; call `records` again to tail."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.header: events_pb2.WalHeader | None = None

    def read_header(self) -> events_pb2.WalHeader | None:
        """The header, or None while the file is too short to hold it."""
        if self.header is None:
            for payload in self._payloads(limit=1):
                self.header = events_pb2.WalHeader.FromString(payload)
        return self.header

    def events(self) -> Iterator[events_pb2.Event]:
        """Every complete event after those already read."""
        if self.read_header() is None:
            return
        for payload in self._payloads():
            yield events_pb2.Event.FromString(payload)

    def _payloads(self, limit: int | None = None) -> Iterator[bytes]:
        with open(self.path, "rb") as file:
            if self.offset == 0:
                if file.read(len(MAGIC)) != MAGIC:
                    return
                self.offset = len(MAGIC)
            file.seek(self.offset)
            count = 0
            while limit is None or count < limit:
                payload = self._next(file)
                if payload is None:
                    return
                count += 1
                yield payload

    def _next(self, file) -> bytes | None:
        head = file.read(_FRAME.size)
        if len(head) < _FRAME.size:
            return None
        length, checksum = _FRAME.unpack(head)
        payload = file.read(length)
        if len(payload) < length:
            return None
        if zlib.crc32(payload) != checksum:
            raise WalCorrupt(self.path, self.offset, "checksum mismatch")
        self.offset += _FRAME.size + length
        return payload


def read_all(path: Path) -> tuple[events_pb2.WalHeader | None, list[events_pb2.Event]]:
    """The header and every complete event of a WAL file."""
    reader = WalReader(path)
    events = list(reader.events())
    return reader.header, events
