"""`Audio`: samples from a numpy array stored as 16-bit PCM WAV, or a file.

Arrays are ``(samples,)`` or ``(samples, channels)``. int16 samples are
stored as they are; floats are taken as -1..1, clipped, scaled by 32767 and
rounded; other integers are clipped to int16's range.
"""

from __future__ import annotations

import io
import os
import wave
from typing import Any, ClassVar

from ..errors import UsageError
from .arrays import as_array
from .base import Media, extension, read_file
from .optional import numpy

FILE_FORMATS = frozenset({"wav", "mp3", "ogg", "flac", "m4a", "aac"})


class Audio(Media):
    """A sound clip.

    Args:
        data_or_path: a numpy array (or tensor) of samples, or an audio file.
        sample_rate: samples per second; required for arrays.
        caption: text shown with the clip.

    Raises:
        UsageError: no sample rate for an array, or a shape that is not audio.
    """

    _type: ClassVar[str] = "audio-file"
    _folder: ClassVar[str] = "audio"

    def __init__(
        self, data_or_path: Any, sample_rate: int | None = None,
        caption: str | None = None,
    ) -> None:
        super().__init__(caption)
        if isinstance(data_or_path, (str, os.PathLike)):
            self._from_file(data_or_path, sample_rate)
            return
        if not sample_rate or int(sample_rate) <= 0:
            raise UsageError("Audio from an array needs sample_rate=<samples/s>")
        samples = _pcm16(as_array(data_or_path, "lodestar.Audio"))
        channels = 1 if samples.ndim == 1 else samples.shape[1]
        self._set_content(
            _wav(samples, int(sample_rate), channels), "wav",
            sample_rate=int(sample_rate), channels=channels,
            duration=len(samples) / int(sample_rate),
        )

    def _from_file(self, path: Any, sample_rate: int | None) -> None:
        fmt = extension(path)
        if fmt not in FILE_FORMATS:
            raise UsageError(f"{str(path)!r} is not an audio file; use one of "
                             f"{sorted(FILE_FORMATS)}")
        meta = {"sample_rate": int(sample_rate)} if sample_rate else {}
        self._set_content(read_file(path, "audio"), fmt, **meta)


def _pcm16(array: Any) -> Any:
    np = numpy("lodestar.Audio")
    if array.ndim not in (1, 2) or array.shape[0] == 0:
        raise UsageError(f"audio must be (samples,) or (samples, channels), not "
                         f"shape {tuple(array.shape)}")
    if array.dtype == np.int16:
        return array
    if array.dtype.kind == "f":
        scaled = np.rint(np.clip(np.nan_to_num(array), -1.0, 1.0) * 32767)
        return scaled.astype(np.int16)
    if array.dtype.kind in "iub":
        return np.clip(array, -32768, 32767).astype(np.int16)
    raise UsageError(f"audio samples of dtype {array.dtype} are not numbers")


def _wav(samples: Any, rate: int, channels: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.astype("<i2").tobytes())
    return buffer.getvalue()
