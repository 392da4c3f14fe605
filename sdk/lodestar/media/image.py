"""`Image`: pixels from arrays, tensors, PIL images or files, with overlays.

Arrays follow the layout and dtype rules of `lodestar.media.arrays` and are
stored as lossless PNG. A PIL image is stored as PNG in its own mode when PNG
holds that mode (1, L, LA, I;16, P, RGB, RGBA), else converted to RGB(A). A
file is stored byte for byte in its own format.

Overlays travel in the image's JSON value: segmentation masks as PNG files of
their own (one class id per pixel), bounding boxes as JSON.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from typing import Any, ClassVar

from ..errors import UsageError
from . import arrays
from .base import Media, Sink, extension, read_file
from .boxes import check_boxes
from .optional import pil_image

PNG_MODES = frozenset({"1", "L", "LA", "I;16", "P", "RGB", "RGBA"})
FILE_FORMATS = {"png": "png", "jpg": "jpeg", "jpeg": "jpeg", "gif": "gif",
                "bmp": "bmp", "webp": "webp", "tif": "tiff", "tiff": "tiff"}


class Image(Media):
    """An image to log, as ML engineers know it from other trackers.

    Args:
        data_or_path: a numpy array (HW, HWC, CHW; uint8, bool, int or
            float), a torch tensor, a PIL image, or the path of an image file.
        mode: a PIL mode to convert to first ("L", "RGB", "RGBA").
        caption: text shown with the image.
        masks: ``{name: {"mask_data": HxW ints, "class_labels": {id: name}}}``
            (or ``{"path": png}`` instead of ``mask_data``).
        boxes: ``{name: {"box_data": [...], "class_labels": {...}}}``; see
            `lodestar.media.boxes`.
        classes: class labels shared by masks and boxes: ``{id: name}`` or
            ``[{"id": 1, "name": "cat"}, ...]``.

    Raises:
        UsageError: the data is not an image, or an overlay is malformed.
        MissingExtra: numpy or Pillow is not installed.
    """

    _type: ClassVar[str] = "image-file"
    _folder: ClassVar[str] = "images"

    def __init__(
        self,
        data_or_path: Any,
        mode: str | None = None,
        caption: str | None = None,
        masks: Mapping[str, Any] | None = None,
        boxes: Mapping[str, Any] | None = None,
        classes: Any = None,
    ) -> None:
        super().__init__(caption)
        if isinstance(data_or_path, (str, os.PathLike)) and mode is None:
            self._from_file(data_or_path)
        else:
            self._from_pil(_to_pil(data_or_path, mode))
        size = (self._meta["width"], self._meta["height"])
        self.classes = _class_labels(classes)
        self._masks = {name: _Mask(name, spec, size) for name, spec in
                       (masks or {}).items()}
        self._boxes = {name: check_boxes(name, spec) for name, spec in
                       (boxes or {}).items()}

    @property
    def width(self) -> int:
        return int(self._meta["width"])

    @property
    def height(self) -> int:
        return int(self._meta["height"])

    def _from_file(self, path: Any) -> None:
        data = read_file(path, "image")
        fmt = FILE_FORMATS.get(extension(path))
        pil = pil_image("lodestar.Image")
        try:
            with pil.open(io.BytesIO(data)) as opened:
                width, height = opened.size
                mode = opened.mode
                fmt = fmt or (opened.format or "png").lower()
        except (OSError, ValueError) as exc:
            raise UsageError(f"{str(path)!r} is not an image file: {exc}") from exc
        self._set_content(data, fmt, width=width, height=height, mode=mode)

    def _from_pil(self, image: Any) -> None:
        if image.mode not in PNG_MODES:
            image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        width, height = image.size
        self._set_content(buffer.getvalue(), "png", width=width, height=height,
                          mode=image.mode)

    def to_json(self, sink: Sink, key: str, step: int) -> dict[str, Any]:
        value = super().to_json(sink, key, step)
        if self._masks:
            value["masks"] = {name: mask.to_json(sink, key, step, self.classes)
                              for name, mask in self._masks.items()}
        if self._boxes:
            value["boxes"] = {name: _with_labels(spec, self.classes)
                              for name, spec in self._boxes.items()}
        if self.classes:
            value["classes"] = self.classes
        return value


def _to_pil(data: Any, mode: str | None) -> Any:
    pil = pil_image("lodestar.Image")
    if isinstance(data, Image):
        image = pil.open(io.BytesIO(data.data))
    elif isinstance(data, (str, os.PathLike)):
        image = pil.open(io.BytesIO(read_file(data, "image")))
    elif isinstance(data, pil.Image):
        image = data.copy()
    else:
        image = _array_to_pil(data, pil)
    return image.convert(mode) if mode else image


def _array_to_pil(data: Any, pil: Any) -> Any:
    array = arrays.to_hwc(arrays.as_array(data, "lodestar.Image"))
    # uint8 HW, HWC3 and HWC4 arrays become L, RGB and RGBA images
    return pil.fromarray(arrays.to_uint8(array))


def _class_labels(classes: Any) -> dict[str, str]:
    """Class labels as ``{"<id>": name}`` (JSON object keys are text)."""
    if classes is None:
        return {}
    items: Any
    if isinstance(classes, Mapping):
        items = classes.items()
    else:
        try:
            items = [(c["id"], c["name"]) for c in classes]
        except (TypeError, KeyError) as exc:
            raise UsageError(
                "classes must be {id: name} or a list of {'id': ..., 'name': ...}"
            ) from exc
    return {str(int(k)): str(v) for k, v in items}


def _with_labels(spec: dict[str, Any], classes: dict[str, str]) -> dict[str, Any]:
    if "class_labels" in spec or not classes:
        return spec
    return {**spec, "class_labels": classes}


class _Mask:
    """A segmentation mask: one class id per pixel, stored as a PNG."""

    def __init__(self, name: str, spec: Any, size: tuple[int, int]) -> None:
        if not isinstance(spec, Mapping):
            raise UsageError(f"mask {name!r} must be a dict with 'mask_data'")
        self.labels = _class_labels(spec.get("class_labels"))
        if "path" in spec:
            self.image = Image(spec["path"])
        elif "mask_data" in spec:
            self.image = Image(_mask_pil(name, spec["mask_data"]))
        else:
            raise UsageError(f"mask {name!r} needs 'mask_data' (or 'path')")
        if (self.image.width, self.image.height) != size:
            raise UsageError(
                f"mask {name!r} is {self.image.width}x{self.image.height}; "
                f"the image is {size[0]}x{size[1]}"
            )

    def to_json(
        self, sink: Sink, key: str, step: int, classes: dict[str, str]
    ) -> dict[str, Any]:
        value = self.image.to_json(sink, f"{key}_mask", step)
        value["_type"] = "mask"
        value["class_labels"] = self.labels or classes
        return value


def _mask_pil(name: str, data: Any) -> Any:
    np = arrays.numpy("segmentation masks")
    pil = pil_image("segmentation masks")
    array = arrays.as_array(data, "segmentation masks")
    if array.ndim != 2 or array.dtype.kind not in "iub":
        raise UsageError(
            f"mask {name!r} must be a 2-D array of integer class ids, not "
            f"{array.dtype} of shape {tuple(array.shape)}"
        )
    if array.size and (array.min() < 0 or array.max() > 65535):
        raise UsageError(f"mask {name!r} holds class ids outside 0..65535")
    if array.size and array.max() > 255:
        return pil.fromarray(array.astype(np.uint16))  # mode I;16
    return pil.fromarray(array.astype(np.uint8))  # mode L
