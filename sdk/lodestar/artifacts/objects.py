"""Media objects and tables inside artifacts: `Artifact.add` and `.get`.

``add(obj, "name")`` stores a rich value as the entry ``name.<kind>.json``
(``name.table.json``, ``name.image.json``, ...) holding the same JSON value
that ``log()`` would keep, plus, for media, the encoded bytes as their own
entry under ``media/``. A table keeps its rows in the JSON entry. ``get``
reads the JSON entry back and rebuilds the object.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ..errors import UsageError

Reader = Callable[[str], bytes]
_META_KEYS = {"_type", "path", "sha256", "size", "format", "caption"}


class ArtifactSink:
    """A media `Sink` that turns staged bytes into artifact entries."""

    def __init__(self, put_bytes: Callable[[str, bytes], None]) -> None:
        self._put_bytes = put_bytes

    def stage(self, relative_path: str, data: bytes, sha256: str) -> str:
        self._put_bytes(relative_path, data)
        return relative_path

    def table(self, table: Any, key: str, step: int) -> dict[str, Any]:
        from ..media.cells import row_text
        from ..media.values import table_json

        value = table_json(self, table, key, step)
        texts = [row_text(row, lambda m: m.to_json(self, key, step))
                 for row in table.data]
        value["data"] = [json.loads(text) for text in texts]
        return value


def encode(obj: Any, name: str, put_bytes: Callable[[str, bytes], None]) -> tuple[
        str, bytes]:
    """The JSON entry (name and content) of a rich value.

    Raises:
        UsageError: `obj` is not a media object or a table.
    """
    from ..media.values import encode_value, is_rich

    if not is_rich(obj):
        raise UsageError(f"Artifact.add takes a media object or a Table, not "
                         f"{type(obj).__name__}; use add_file for files")
    value = encode_value(ArtifactSink(put_bytes), obj, name, 0)
    kind = str(value.get("_type", "value")).removesuffix("-file").replace("/", "-")
    return f"{name}.{kind}.json", json.dumps(value).encode()


def decode(value: dict[str, Any], read: Reader) -> Any:
    """Rebuild the object a JSON entry describes (the value itself if unknown)."""
    kind = value.get("_type", "")
    if kind == "table-file":
        return _table(value, read)
    if kind == "histogram":
        from ..media import Histogram

        return Histogram(np_histogram=(value["values"], value["bins"]))
    cls = _media_classes().get(kind)
    if cls is None or "path" not in value:
        return value
    return _media(cls, value, read(value["path"]))


def _table(value: dict[str, Any], read: Reader) -> Any:
    from ..media import Table

    rows = [[_cell(cell, read) for cell in row] for row in value.get("data", [])]
    return Table(columns=value["columns"], data=rows)


def _cell(cell: Any, read: Reader) -> Any:
    if isinstance(cell, dict) and "_type" in cell:
        return decode(cell, read)
    return cell


def _media(cls: Any, value: dict[str, Any], data: bytes) -> Any:
    from ..media.base import Media

    obj = cls.__new__(cls)  # the bytes are encoded already: skip __init__
    Media.__init__(obj, value.get("caption"))
    meta = {k: v for k, v in value.items() if k not in _META_KEYS}
    obj._set_content(data, value.get("format", ""), **meta)
    return obj


def _media_classes() -> dict[str, type]:
    from .. import media

    found = {}
    for name in media.__all__:
        cls = getattr(media, name)
        kind = getattr(cls, "_type", "")
        if kind:
            found[kind] = cls
    return found
