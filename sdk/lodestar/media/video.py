"""`Video`: frames from a numpy array (T×C×H×W) or a video file.

Frames follow the pixel rules of `lodestar.media.arrays` (uint8 kept, floats
in 0..1 scaled). A 4-D array is T×C×H×W when its second axis has 1, 3 or 4
entries, else T×H×W×C. ``gif`` is encoded with Pillow; ``mp4`` and ``webm``
need the ffmpeg binary that the ``imageio-ffmpeg`` package ships
(``pip install "lodestar[video]"``).
"""

from __future__ import annotations

import io
import os
import tempfile
from typing import Any, ClassVar

from ..errors import UsageError
from . import arrays
from .base import Media, extension, read_file
from .optional import pil_image, require

FORMATS = ("gif", "mp4", "webm")
FILE_FORMATS = frozenset({"gif", "mp4", "webm", "mov", "ogg", "avi"})


class Video(Media):
    """A video clip.

    Args:
        data_or_path: a T×C×H×W (or T×H×W×C) array or tensor, or a video file.
        fps: frames per second of an array.
        format: ``gif``, ``mp4`` or ``webm`` for an array.
        caption: text shown with the clip.

    Raises:
        UsageError: an unknown format or a shape that is not frames.
        MissingExtra: mp4/webm without imageio-ffmpeg.
    """

    _type: ClassVar[str] = "video-file"
    _folder: ClassVar[str] = "videos"

    def __init__(
        self, data_or_path: Any, fps: int = 4, format: str | None = None,
        caption: str | None = None,
    ) -> None:
        super().__init__(caption)
        if isinstance(data_or_path, (str, os.PathLike)):
            self._from_file(data_or_path)
            return
        fmt = (format or "gif").lower()
        if fmt not in FORMATS:
            raise UsageError(f"video format {format!r}; use one of {FORMATS}")
        if not fps or fps <= 0:
            raise UsageError(f"fps={fps!r}; use a positive number of frames/s")
        frames = _frames(data_or_path)
        data = _gif(frames, fps) if fmt == "gif" else _ffmpeg(frames, fps, fmt)
        count, height, width = frames.shape[:3]
        self._set_content(data, fmt, width=width, height=height, frames=count,
                          fps=fps)

    def _from_file(self, path: Any) -> None:
        fmt = extension(path)
        if fmt not in FILE_FORMATS:
            raise UsageError(f"{str(path)!r} is not a video file; use one of "
                             f"{sorted(FILE_FORMATS)}")
        self._set_content(read_file(path, "video"), fmt)


def _frames(data: Any) -> Any:
    """Frames as uint8 T×H×W×3 (RGB; alpha dropped, gray repeated)."""
    np = arrays.numpy("lodestar.Video")
    array = arrays.as_array(data, "lodestar.Video")
    if array.ndim != 4 or 0 in array.shape:
        raise UsageError(f"video frames must be T×C×H×W, not shape "
                         f"{tuple(array.shape)}")
    if array.shape[1] in arrays.CHANNELS and array.shape[-1] not in arrays.CHANNELS:
        array = array.transpose(0, 2, 3, 1)
    if array.shape[-1] not in arrays.CHANNELS:
        raise UsageError(f"video frames need 1, 3 or 4 channels, not shape "
                         f"{tuple(array.shape)}")
    array = arrays.to_uint8(array)
    if array.shape[-1] == 1:
        array = np.repeat(array, 3, axis=-1)
    return np.ascontiguousarray(array[..., :3])


def _gif(frames: Any, fps: int) -> bytes:
    pil = pil_image("lodestar.Video")
    images = [pil.fromarray(frame) for frame in frames]
    buffer = io.BytesIO()
    images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:],
                   duration=max(1, round(1000 / fps)), loop=0)
    return buffer.getvalue()


def _ffmpeg(frames: Any, fps: int, fmt: str) -> bytes:
    ffmpeg = require("imageio_ffmpeg", f"lodestar.Video(format={fmt!r})")
    count, height, width = frames.shape[:3]
    codec = {"mp4": "libx264", "webm": "libvpx-vp9"}[fmt]
    with tempfile.TemporaryDirectory(prefix="lodestar-video-") as tmp:
        path = os.path.join(tmp, f"clip.{fmt}")
        writer = ffmpeg.write_frames(
            path, (width, height), fps=fps, codec=codec, macro_block_size=1,
            pix_fmt_out="yuv420p", output_params=["-loglevel", "error"],
        )
        writer.send(None)
        for frame in frames:
            writer.send(frame.tobytes())
        writer.close()
        return read_file(path, "video")


