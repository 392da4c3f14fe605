"""Bounding boxes of an `Image`, checked when the image is made.

One set of boxes is ``{"box_data": [box, ...], "class_labels": {id: name}}``.
A box has a ``position``, either corners ``{"minX", "maxX", "minY", "maxY"}``
or ``{"middle": [x, y], "width", "height"}``; its coordinates are relative
(0..1 of the image's size) unless the box says ``"domain": "pixel"``. Each
box may carry ``class_id`` (an int), ``box_caption`` (text) and ``scores``
(``{name: number}``). The stored JSON keeps exactly these fields.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..errors import UsageError

CORNERS = ("minX", "maxX", "minY", "maxY")
_BOX_FIELDS = frozenset({"position", "domain", "class_id", "box_caption", "scores"})


def check_boxes(name: str, spec: Any) -> dict[str, Any]:
    """One set of boxes, checked and copied into plain JSON values.

    Raises:
        UsageError: a box or a field of it is malformed; the message names it.
    """
    if not isinstance(spec, Mapping) or "box_data" not in spec:
        raise UsageError(f"boxes {name!r} must be a dict with 'box_data'")
    boxes = [_check_box(name, i, box) for i, box in enumerate(spec["box_data"])]
    value: dict[str, Any] = {"box_data": boxes}
    if spec.get("class_labels") is not None:
        value["class_labels"] = {str(int(k)): str(v)
                                 for k, v in spec["class_labels"].items()}
    return value


def _check_box(name: str, index: int, box: Any) -> dict[str, Any]:
    where = f"box {index} of {name!r}"
    if not isinstance(box, Mapping):
        raise UsageError(f"{where} must be a dict, not {type(box).__name__}")
    unknown = set(box) - _BOX_FIELDS
    if unknown:
        raise UsageError(f"{where} has unknown fields {sorted(unknown)}; allowed: "
                         f"{sorted(_BOX_FIELDS)}")
    checked: dict[str, Any] = {"position": _position(where, box.get("position"))}
    domain = box.get("domain")
    if domain not in (None, "pixel"):
        raise UsageError(f"{where}: domain {domain!r} is not 'pixel' (omit it for "
                         "relative coordinates)")
    if domain is not None:
        checked["domain"] = domain
    if box.get("class_id") is not None:
        checked["class_id"] = _integer(where, "class_id", box["class_id"])
    if box.get("box_caption") is not None:
        checked["box_caption"] = str(box["box_caption"])
    if box.get("scores") is not None:
        checked["scores"] = {str(k): _number(where, f"score {k!r}", v)
                             for k, v in box["scores"].items()}
    return checked


def _position(where: str, position: Any) -> dict[str, Any]:
    if not isinstance(position, Mapping):
        raise UsageError(f"{where} needs a 'position' dict")
    if all(k in position for k in CORNERS):
        return {k: _number(where, k, position[k]) for k in CORNERS}
    if all(k in position for k in ("middle", "width", "height")):
        middle = [_number(where, "middle", v) for v in position["middle"]]
        if len(middle) != 2:
            raise UsageError(f"{where}: middle must be [x, y]")
        return {"middle": middle, "width": _number(where, "width", position["width"]),
                "height": _number(where, "height", position["height"])}
    raise UsageError(f"{where}: position needs {', '.join(CORNERS)} or middle, "
                     "width and height")


def _number(where: str, field: str, value: Any) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        value = _python_number(value)
    if isinstance(value, float) and not math.isfinite(value):
        raise UsageError(f"{where}: {field} is {value}, not a finite number")
    return value


def _python_number(value: Any) -> float | int:
    item = getattr(value, "item", None)
    if item is not None:
        value = item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UsageError(f"{value!r} is not a number")
    return value


def _integer(where: str, field: str, value: Any) -> int:
    number = _number(where, field, value)
    if isinstance(number, float) and not number.is_integer():
        raise UsageError(f"{where}: {field} {number} is not an integer")
    return int(number)
