"""Rich values in a logged row: turned into JSON values, their bytes staged.

`encode_row` runs in the caller's thread inside ``log()``, on the row's
private copy: every media object becomes its JSON value (its bytes written
under the run's ``files/`` for the agent to upload), every `Table` sends its
rows as `TableChunk` events, and a list of images becomes one
``images/separated`` value. Plain values are left alone.

`RunSink` remembers what a run has stored: the same bytes logged twice are
staged once (the second value points at the first file), and the same table
logged twice sends its rows once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import files
from .base import JsonMedia, Media, Sink
from .cells import chunks, column_types, row_text, table_id
from .figures import figure_json, is_figure
from .image import Image
from .table import Table

if TYPE_CHECKING:
    from .._run import Run

_PLAIN = frozenset({float, int, str, bool, type(None)})
MAX_REMEMBERED = 100_000


def is_rich(value: Any) -> bool:
    """Whether `value` is a media object, a table, a figure or a list of images."""
    if isinstance(value, (Media, JsonMedia, Table)):
        return True
    if isinstance(value, (list, tuple)) and value:
        return all(isinstance(v, Image) for v in value)
    return is_figure(value)


def has_rich(row: dict[str, Any]) -> bool:
    """Whether any value of `row` needs `encode_row`."""
    values = row.values()
    if _PLAIN.issuperset(map(type, values)):
        return False
    return any(type(v) not in _PLAIN and is_rich(v) for v in values)


def encode_row(sink: Sink, row: dict[str, Any], step: int) -> dict[str, Any]:
    """`row` with each rich value replaced by its JSON value (in place)."""
    for key, value in row.items():
        if type(value) not in _PLAIN and is_rich(value):
            row[key] = encode_value(sink, value, str(key), step)
    return row


def encode_value(sink: Sink, value: Any, key: str, step: int) -> dict[str, Any]:
    """The JSON value of one rich value."""
    if isinstance(value, Table):
        return sink.table(value, key, step)
    if isinstance(value, (Media, JsonMedia)):
        return value.to_json(sink, key, step)
    if isinstance(value, (list, tuple)):
        images = [image.to_json(sink, key, step) for image in value]
        return {"_type": "images/separated", "count": len(images), "images": images}
    return figure_json(value, sink, key, step)


def table_json(
    sink: Sink, table: Table, key: str, step: int, sent: set[str] | None = None,
    send: Any = None,
) -> dict[str, Any]:
    """Encode `table`'s rows, hand each chunk to `send`; the table's value.

    Chunks are not sent again for a table id already in `sent`.
    """
    def media(value: Any) -> Any:
        return value.to_json(sink, key, step)

    texts = [row_text(row, media) for row in table.data]
    ident = table_id(table.columns, texts)
    types = column_types(len(table.columns), table.data)
    if send is not None and (sent is None or ident not in sent):
        for chunk in chunks(key, step, ident, table.columns, types, texts):
            send(chunk)
        if sent is not None:
            sent.add(ident)
    return {"_type": "table-file", "table_id": ident, "nrows": len(texts),
            "ncols": len(table.columns), "columns": list(table.columns),
            "column_types": types}


class RunSink:
    """Stores a run's media files and table rows through its writer thread."""

    def __init__(self, run: Run) -> None:
        self._run = run
        self._paths: dict[str, str] = {}
        self._tables: set[str] = set()

    def stage(self, relative_path: str, data: bytes, sha256: str) -> str:
        known = self._paths.get(sha256)
        if known is not None:
            return known
        files.stage_bytes(self._run, relative_path, data)
        if len(self._paths) < MAX_REMEMBERED:
            self._paths[sha256] = relative_path
        return relative_path

    def table(self, table: Any, key: str, step: int) -> dict[str, Any]:
        return table_json(self, table, key, step, self._tables, self._send)

    def _send(self, chunk: Any) -> None:
        self._run._record_event("table_chunk", chunk)


def run_sink(run: Run) -> RunSink:
    """The run's sink, made on first use."""
    sink = run._media
    if sink is None:
        sink = run._media = RunSink(run)
    return sink
