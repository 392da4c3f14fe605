"""What every rich value shares: encoded bytes, metadata, and a stored path.

A media object encodes its input when it is made, in the caller's thread, so
that an array changed after the call cannot change what is stored. When it is
logged, `Media.to_json` stores the bytes as a run file through a `Sink` and
returns the JSON value that the history keeps::

    {"_type": "image-file", "path": "media/images/<key>_<step>_<sha8>.png",
     "sha256": ..., "size": ..., "format": "png", ...metadata}

Values that are only JSON (histograms) have no bytes and no path.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, ClassVar, Protocol

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
MAX_NAME_KEY = 80


class Sink(Protocol):
    """Where encoded values go: run files and table chunks of one run."""

    def stage(self, relative_path: str, data: bytes, sha256: str) -> str:
        """Store `data` as a run file; returns the path the value points at."""

    def table(self, table: Any, key: str, step: int) -> dict[str, Any]:
        """Send a table's rows; returns its JSON value."""


class Media:
    """Base of the rich values that are stored as a file plus metadata."""

    _type: ClassVar[str] = ""
    _folder: ClassVar[str] = ""

    def __init__(self, caption: str | None = None) -> None:
        self._data = b""
        self._format = ""
        self._sha256 = ""
        self._meta: dict[str, Any] = {}
        self.caption = None if caption is None else str(caption)

    def _set_content(self, data: bytes, fmt: str, **meta: Any) -> None:
        self._data = bytes(data)
        self._format = fmt
        self._sha256 = hashlib.sha256(self._data).hexdigest()
        self._meta = meta

    @property
    def sha256(self) -> str:
        """The SHA-256 of the encoded bytes."""
        return self._sha256

    @property
    def format(self) -> str:
        return self._format

    @property
    def data(self) -> bytes:
        """The encoded bytes as they are stored."""
        return self._data

    def to_json(self, sink: Sink, key: str, step: int) -> dict[str, Any]:
        """Store the bytes through `sink`; the JSON value for the history."""
        path = media_path(self._folder, key, step, self._sha256, self._format)
        path = sink.stage(path, self._data, self._sha256)
        value: dict[str, Any] = {
            "_type": self._type,
            "path": path,
            "sha256": self._sha256,
            "size": len(self._data),
            "format": self._format,
        }
        value.update(self._meta)
        if self.caption is not None:
            value["caption"] = self.caption
        return value

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._format} {len(self._data)} bytes>"


class JsonMedia:
    """Base of rich values stored as JSON only, without a file."""

    def to_json(self, sink: Sink, key: str, step: int) -> dict[str, Any]:
        raise NotImplementedError


def media_path(folder: str, key: str, step: int, sha256: str, fmt: str) -> str:
    """``media/<folder>/<key>_<step>_<sha8>.<fmt>``, with a file-safe key."""
    safe = _UNSAFE.sub("_", key).strip("._")[:MAX_NAME_KEY] or "value"
    return f"media/{folder}/{safe}_{step}_{sha256[:8]}.{fmt}"


def read_file(path: Any, what: str) -> bytes:
    """The bytes of the file at `path`, with an error that names the file.

    Raises:
        UsageError: the file cannot be read.
    """
    from ..errors import UsageError

    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise UsageError(f"cannot read the {what} file {str(path)!r}: {exc}") from exc


def extension(path: Any) -> str:
    """The lower-case extension of `path`, without the dot."""
    name = str(path)
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""
