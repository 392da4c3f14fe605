"""Reading a WAL in bounded batches, and going back to replay.

Memory stays bounded: the cursor holds one batch at a time, and replaying
after a reconnect reads the file again from a remembered offset instead of
keeping sent batches in memory.
"""

from __future__ import annotations

import logging
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from .._proto import events_pb2
from ..wal import WalReader

logger = logging.getLogger(__name__)

# gRPC's message limit is 16 MB; an event that cannot fit is sent as an empty
# event with its number, which ingest rejects with a reason, so the sequence
# stays whole.
MAX_EVENT_BYTES = 15 * 1024 * 1024


@dataclass(frozen=True)
class Batch:
    """Consecutive events, and where in the file the first one starts."""

    events: list[events_pb2.Event]
    offset: int
    size: int

    @property
    def first(self) -> int:
        return self.events[0].seq

    @property
    def last(self) -> int:
        return self.events[-1].seq


class WalCursor:
    """Reads batches from a WAL that may still be growing."""

    def __init__(self, path: Path, max_events: int, max_bytes: int) -> None:
        self.path = path
        self.max_events = max_events
        self.max_bytes = max_bytes
        self.last_read = 0                 # highest seq handed out
        self.finish_seq: int | None = None  # seq of the Finish event, once seen
        self.oversized: list[int] = []      # seqs sent empty because too large
        self._reader = WalReader(path)
        self._skip_upto = 0

    def header(self) -> events_pb2.WalHeader | None:
        """The WAL header, or None while the file is too short."""
        return self._reader.read_header()

    def first_event(self) -> events_pb2.Event | None:
        """Event 1 (the RunStart), read without moving the cursor."""
        reader = WalReader(self.path)
        events = _generator(reader)
        try:
            return next(events, None)
        finally:
            events.close()

    def rewind(self, offset: int | None, acked: int) -> None:
        """Continue from `offset` (None: where it is), skipping seqs up to `acked`."""
        if offset is not None:
            self._reader.offset = offset
        if self._reader.offset == 0:
            self._reader.header = None
        self._skip_upto = acked
        self.last_read = acked

    def next_batch(self) -> Batch | None:
        """The next events not yet handed out, or None when there are none yet."""
        if self.header() is None:
            return None
        offset = self._reader.offset
        events: list[events_pb2.Event] = []
        size = 0
        stream = _generator(self._reader)
        try:
            for event in stream:
                if event.seq <= self._skip_upto:
                    offset = self._reader.offset
                    continue
                events.append(self._sendable(event))
                size += events[-1].ByteSize()
                if len(events) >= self.max_events or size >= self.max_bytes:
                    break
        finally:
            stream.close()
        if not events:
            return None
        self._note(events)
        return Batch(events, offset, size)

    def _sendable(self, event: events_pb2.Event) -> events_pb2.Event:
        if event.ByteSize() <= MAX_EVENT_BYTES:
            return event
        logger.warning("event %d is %d bytes, too large to send; sending it empty",
                       event.seq, event.ByteSize())
        self.oversized.append(event.seq)
        return events_pb2.Event(seq=event.seq, timestamp=event.timestamp)

    def _note(self, events: list[events_pb2.Event]) -> None:
        self.last_read = events[-1].seq
        for event in events:
            if event.WhichOneof("body") == "finish":
                self.finish_seq = event.seq


def find_wal(run_dir: Path) -> Path | None:
    """The run directory's WAL: its only ``*.wal`` file."""
    found = sorted(run_dir.glob("*.wal"))
    return found[0] if found else None


def _generator(reader: WalReader) -> Generator[events_pb2.Event, None, None]:
    """`reader.events()`, which holds the file open until closed or exhausted."""
    return cast(Generator[events_pb2.Event, None, None], reader.events())
