"""`Object3D`: point clouds from numpy arrays, or .obj/.gltf/.glb files.

A point cloud is N×3 (x, y, z), N×4 (x, y, z, category) or N×6 (x, y, z, r,
g, b, colours 0..255). It is stored as a ``.pts.json`` file holding
``{"type": "lidar/beta", "points": [[...], ...]}`` with the rows as given.
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
        UsageError: an array of another shape, non-finite coordinates, or a
            file that is not .obj, .gltf or .glb.
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
        points = as_array(data_or_path, "lodestar.Object3D")
        if points.ndim != 2 or points.shape[1] not in POINT_WIDTHS:
            raise UsageError(f"a point cloud must be N×3, N×4 or N×6, not shape "
                             f"{tuple(points.shape)}")
        rows = points.tolist()
        if not all(math.isfinite(v) for row in rows for v in row):
            raise UsageError("a point cloud holds NaN or infinite coordinates")
        text = json.dumps({"type": "lidar/beta", "points": rows},
                          separators=(",", ":"))
        self._set_content(text.encode(), "pts.json", points=len(rows),
                          point_width=points.shape[1])
