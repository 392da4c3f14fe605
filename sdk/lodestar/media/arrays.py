"""Arrays in the shapes and dtypes ML code holds them, turned into pixels.

Rules, applied in this order:

- torch tensors (recognised by ``detach``/``cpu``/``numpy``; torch is never
  imported) become numpy arrays; so does anything with ``__array__``.
- Layout: 2-D arrays are HW; 3-D arrays are HWC when the last axis has 1, 3
  or 4 entries, and CHW when the first has and the last has not. A single
  channel is squeezed to grayscale.
- dtype: uint8 is kept; bools are 0 and 255; other integers are clipped to
  0..255; floats whose finite values all lie in [0, 1] are scaled by 255 and
  rounded, other floats are taken as 0..255, rounded and clipped; NaN is 0,
  +Infinity 255 and -Infinity 0 (±Infinity does not decide the scale).
"""

from __future__ import annotations

from typing import Any

from ..errors import UsageError
from .optional import numpy

CHANNELS = (1, 3, 4)


def is_tensor(value: Any) -> bool:
    return all(hasattr(value, name) for name in ("detach", "cpu", "numpy"))


def as_array(value: Any, feature: str) -> Any:
    """`value` (array, tensor, nested list) as a numpy array."""
    np = numpy(feature)
    if is_tensor(value):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def to_hwc(array: Any, what: str = "image") -> Any:
    """`array` laid out as HW (grayscale) or HWC with 3 or 4 channels.

    Raises:
        UsageError: the shape is not an image's.
    """
    if array.ndim == 3 and array.shape[-1] not in CHANNELS:
        if array.shape[0] in CHANNELS:
            array = array.transpose(1, 2, 0)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[:, :, 0]
    if array.ndim == 2 or (array.ndim == 3 and array.shape[-1] in (3, 4)):
        if 0 in array.shape:
            raise UsageError(f"the {what} array of shape {array.shape} is empty")
        return array
    raise UsageError(
        f"an {what} array must be HW, HWC or CHW with 1, 3 or 4 channels, "
        f"not shape {tuple(array.shape)}"
    )


def to_uint8(array: Any) -> Any:
    """`array` as uint8 pixel values by the dtype rules of this module."""
    np = numpy("images")
    kind = array.dtype.kind
    if array.dtype == np.uint8:
        return array
    if kind == "b":
        return array.astype(np.uint8) * 255
    if kind in "iu":
        return np.clip(array, 0, 255).astype(np.uint8)
    if kind != "f":
        raise UsageError(f"pixel values of dtype {array.dtype} are not numbers")
    values = array.astype(np.float64)
    finite = values[np.isfinite(values)]  # ±Infinity must not decide the scale
    if finite.size and finite.min() >= 0.0 and finite.max() <= 1.0:
        values = values * 255.0
    values = np.nan_to_num(values, nan=0.0)
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)
