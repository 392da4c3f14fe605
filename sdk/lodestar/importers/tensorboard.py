"""``lodestar import tensorboard DIR``: TensorBoard event files as runs.

Every folder under DIR that holds ``events.out.tfevents.*`` files is one
run, named by its path under DIR (DIR itself by its own name). Scalars (the
classic ``simple_value`` and TF2's scalar tensors) become history at their
step; images (the classic image summary and TF2's ``images`` plugin tensors)
become `lodestar.Image` values. Other summaries (histograms, audio, text,
graphs) are skipped and counted.

The files are TFRecord: records of a little-endian 8-byte length, a 4-byte
checksum of it, the data, and a 4-byte checksum of the data. The checksums
(CRC-32C) are not verified; a record cut short ends the file.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Iterator
from pathlib import Path

from ..errors import UsageError
from . import protowire as wire
from .target import ImportedRun

logger = logging.getLogger(__name__)

EVENT_GLOB = "events.out.tfevents.*"
_DT_FLOAT, _DT_DOUBLE, _DT_INT32, _DT_INT64 = 1, 2, 3, 9


def read_logdir(root: Path) -> Iterator[ImportedRun]:
    """One run per folder of event files under `root`.

    Raises:
        UsageError: `root` holds no event file.
    """
    folders = sorted({p.parent for p in root.rglob(EVENT_GLOB) if p.is_file()})
    if not folders:
        raise UsageError(f"{root} holds no TensorBoard event file ({EVENT_GLOB})")
    for folder in folders:
        name = root.resolve().name if folder == root else folder.relative_to(
            root).as_posix()
        yield read_folder(folder, name)


def read_folder(folder: Path, name: str) -> ImportedRun:
    """The run of the event files in `folder`, read in name order."""
    run = ImportedRun(name=name)
    skipped = 0
    for path in sorted(folder.glob(EVENT_GLOB)):
        for record in records(path):
            skipped += _add_event(run, record)
    if skipped:
        logger.info("%s: %d summaries of other kinds were skipped", name, skipped)
    return run


def records(path: Path) -> Iterator[bytes]:
    """The data of each TFRecord of the file at `path`."""
    with open(path, "rb") as handle:
        while True:
            header = handle.read(12)
            if len(header) < 12:
                return
            (length,) = struct.unpack("<Q", header[:8])
            data = handle.read(length)
            if len(data) < length or len(handle.read(4)) < 4:
                logger.warning("%s ends inside a record", path)
                return
            yield data


def _add_event(run: ImportedRun, event: bytes) -> int:
    """Add an Event's values to `run`; returns how many were skipped."""
    step, summary = 0, None
    for number, _, value in wire.fields(event):
        if number == 2:
            step = wire.as_signed(value)
        elif number == 5:
            summary = value
    if not isinstance(summary, bytes):
        return 0
    skipped = 0
    for number, _, value in wire.fields(summary):
        if number == 1 and isinstance(value, bytes):
            skipped += 0 if _add_value(run, step, value) else 1
    return skipped


def _add_value(run: ImportedRun, step: int, value: bytes) -> bool:
    tag, plugin = "", ""
    parts: dict[int, int | bytes] = {}
    for number, _, item in wire.fields(value):
        if number == 1 and isinstance(item, bytes):
            tag = item.decode("utf-8", "replace")
        elif number == 9 and isinstance(item, bytes):
            plugin = _plugin_name(item)
        else:
            parts[number] = item
    if 2 in parts:
        run.add(step, tag, wire.as_float(parts[2]))
        return True
    image, tensor = parts.get(4), parts.get(8)
    if isinstance(image, bytes):
        return _add_image(run, step, tag, _image_bytes(image))
    if isinstance(tensor, bytes):
        return _add_tensor(run, step, tag, plugin, tensor)
    return False


def _plugin_name(metadata: bytes) -> str:
    for number, _, item in wire.fields(metadata):
        if number == 1 and isinstance(item, bytes):
            for inner, _, name in wire.fields(item):
                if inner == 1 and isinstance(name, bytes):
                    return name.decode("utf-8", "replace")
    return ""


def _image_bytes(image: bytes) -> bytes:
    for number, _, item in wire.fields(image):
        if number == 4 and isinstance(item, bytes):
            return item
    return b""


def _add_image(run: ImportedRun, step: int, tag: str, encoded: bytes) -> bool:
    if not encoded:
        return False
    run.add_image(step, tag, encoded)
    return True


def _add_tensor(run: ImportedRun, step: int, tag: str, plugin: str,
                tensor: bytes) -> bool:
    dtype, content, values, strings = 0, b"", [], []
    for number, kind, item in wire.fields(tensor):
        if number == 1 and isinstance(item, int):
            dtype = item
        elif number == 4 and isinstance(item, bytes):
            content = item
        elif number in (5, 6):
            values.extend(_numbers(number, kind, item))
        elif number == 8 and isinstance(item, bytes):
            strings.append(item)
    if plugin == "images" and len(strings) >= 3:
        return _add_image(run, step, tag, strings[2])
    if plugin in ("scalars", "") and dtype in (_DT_FLOAT, _DT_DOUBLE):
        found = values or wire.packed(content, "f" if dtype == _DT_FLOAT else "d")
        if len(found) == 1:
            run.add(step, tag, float(found[0]))
            return True
    return False


def _numbers(number: int, kind: int, item: int | bytes) -> list[float]:
    fmt = "f" if number == 5 else "d"
    if kind == wire.LENGTH:
        return wire.packed(item, fmt)
    return [wire.as_float(item) if fmt == "f" else wire.as_double(item)]
