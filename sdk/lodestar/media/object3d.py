"""`Object3D`: point clouds from numpy arrays, or .obj/.gltf/.glb files.

A point cloud is N×3 (x, y, z), N×4 (x, y, z, category) or N×6 (x, y, z, r,
g, b, colours 0..255). A scene is a dict ``{"type": "lidar/beta", "points":
array, "boxes": [...], "vectors": [...]}``: each box has eight ``corners``
(x, y, z) and optional ``label``, ``color`` (r, g, b) and ``score``; each
vector a ``start`` and an ``end`` and an optional ``color``. Either is stored
as a ``.pts.json`` file of that shape, the points' rows as given, except that
a row holding NaN or ±Infinity is left out (like a histogram's NaN entries,
it never fails the call); how many were left out is kept as
``nonfinite_points``.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any, ClassVar

from ..errors import UsageError
from .arrays import as_array
from .base import Media, extension, read_file

FILE_FORMATS = frozenset({"obj", "gltf", "glb"})
POINT_WIDTHS = (3, 4, 6)


class Object3D(Media):
    """A 3-D point cloud or model.

    Raises:
        UsageError: an array of another shape or of values that are not
            numbers, or a file that is not .obj, .gltf or .glb.
    """

    _type: ClassVar[str] = "object3D-file"
    _folder: ClassVar[str] = "object3D"

    def __init__(self, data_or_path: Any, caption: str | None = None) -> None:
        super().__init__(caption)
        if isinstance(data_or_path, (str, os.PathLike)):
            fmt = extension(data_or_path)
            if fmt not in FILE_FORMATS:
                raise UsageError(f"{str(data_or_path)!r} is not a 3-D file; use "
                                 f"one of {sorted(FILE_FORMATS)}")
            self._set_content(read_file(data_or_path, "3-D"), fmt)
            return
        scene = _scene(data_or_path)
        given = scene["points"]
        rows = scene["points"] = [r for r in given if all(map(math.isfinite, r))]
        text = json.dumps(scene, separators=(",", ":"))
        meta = {"points": len(rows), "point_width": len(given[0]) if given else 3}
        if len(rows) != len(given):
            meta["nonfinite_points"] = len(given) - len(rows)
        if scene.get("boxes"):
            meta["boxes"] = len(scene["boxes"])
        self._set_content(text.encode(), "pts.json", **meta)


def _scene(data: Any) -> dict[str, Any]:
    """The stored form of an array or a scene dict; raises UsageError."""
    if not isinstance(data, dict):
        return {"type": "lidar/beta", "points": _points(data)}
    unknown = set(data) - {"type", "points", "boxes", "vectors"}
    if unknown:
        raise UsageError(f"a 3-D scene has no keys {sorted(unknown)}; use points, "
                         "boxes and vectors")
    if "points" not in data:
        raise UsageError("a 3-D scene needs 'points' (an N×3, N×4 or N×6 array)")
    scene: dict[str, Any] = {"type": "lidar/beta", "points": _points(data["points"])}
    if data.get("boxes"):
        scene["boxes"] = [_box(i, box) for i, box in enumerate(data["boxes"])]
    if data.get("vectors"):
        scene["vectors"] = [_vector(i, v) for i, v in enumerate(data["vectors"])]
    return scene


def _points(data: Any) -> list[list[float]]:
    points = as_array(data, "lodestar.Object3D")
    if points.ndim != 2 or points.shape[1] not in POINT_WIDTHS:
        raise UsageError(f"a point cloud must be N×3, N×4 or N×6, not shape "
                         f"{tuple(points.shape)}")
    if points.dtype.kind not in "biuf":
        raise UsageError(f"a point cloud holds numbers, not {points.dtype} values")
    return points.tolist()


def _box(index: int, box: Any) -> dict[str, Any]:
    where = f"box {index}"
    if not isinstance(box, dict) or "corners" not in box:
        raise UsageError(f"{where} must be a dict with 'corners' (eight x, y, z)")
    corners = [_xyz(f"{where} corner", c) for c in _listed(where, box["corners"])]
    if len(corners) != 8:
        raise UsageError(f"{where} has {len(corners)} corners; a box has 8")
    found: dict[str, Any] = {"corners": corners}
    if "label" in box:
        found["label"] = str(box["label"])
    if "color" in box:
        found["color"] = _colour(where, box["color"])
    if "score" in box:
        found["score"] = _finite(f"{where} score", box["score"])
    return found


def _vector(index: int, vector: Any) -> dict[str, Any]:
    where = f"vector {index}"
    if not isinstance(vector, dict) or not {"start", "end"} <= set(vector):
        raise UsageError(f"{where} must be a dict with 'start' and 'end' (x, y, z)")
    found: dict[str, Any] = {"start": _xyz(f"{where} start", vector["start"]),
             "end": _xyz(f"{where} end", vector["end"])}
    if "color" in vector:
        found["color"] = _colour(where, vector["color"])
    return found


def _listed(where: str, value: Any) -> list[Any]:
    if hasattr(value, "tolist"):
        value = value.tolist()
    if not isinstance(value, (list, tuple)):
        raise UsageError(f"{where}: expected a list, got {type(value).__name__}")
    return list(value)


def _xyz(where: str, value: Any) -> list[float]:
    point = [_finite(where, v) for v in _listed(where, value)]
    if len(point) != 3:
        raise UsageError(f"{where} must be (x, y, z), not {len(point)} numbers")
    return point


def _colour(where: str, value: Any) -> list[int]:
    colour = [_finite(f"{where} color", v) for v in _listed(where, value)]
    if len(colour) != 3 or not all(0 <= c <= 255 for c in colour):
        raise UsageError(f"{where} color must be (r, g, b), each 0..255")
    return [int(c) for c in colour]


def _finite(where: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise UsageError(f"{where} must be a number, not {value!r}") from None
    if not math.isfinite(number):
        raise UsageError(f"{where} is NaN or infinite")
    return number
