"""Wrong arguments to media and plots: a UsageError that says what to fix.

And the one rule for NaN and ±Infinity in media data: they never raise.
"""

# ruff: noqa: F811 - the `workdir` fixture is imported from sdk_support

from __future__ import annotations

import io
import json
import wave

import lodestar
import numpy as np
import PIL.Image
import pytest
from lodestar.errors import UsageError
from lodestar.media.values import encode_value
from media_support import MemorySink
from sdk_support import workdir  # noqa: F401


def test_chart_of_no_table_names_what_it_needs():
    with pytest.raises(UsageError) as raised:
        lodestar.plot.line(None, "x", "y")
    assert str(raised.value) == "a line chart needs a lodestar.Table, not NoneType"


def test_confusion_matrix_of_unequal_lengths_says_which():
    with pytest.raises(UsageError) as raised:
        lodestar.plot.confusion_matrix(y_true=[0, 1, 2], preds=[0, 1])
    assert str(raised.value) == (
        "confusion_matrix has 3 y_true labels but 2 preds; give one per example"
    )
    with pytest.raises(UsageError, match="3 y_true labels but 1 probs"):
        lodestar.plot.confusion_matrix(y_true=[0, 1, 2], probs=[[0.2, 0.8]])


def test_histogram_of_text_asks_for_numbers():
    with pytest.raises(UsageError, match=r"^Histogram needs numbers; could not "
                       "convert string to float"):
        lodestar.Histogram(["a"])


def test_init_with_a_number_as_project_asks_for_a_string(workdir):
    with pytest.raises(UsageError) as raised:
        lodestar.init(project=123, mode="offline", dir=workdir)
    assert str(raised.value) == "project must be a string, not int 123"


def test_nan_and_infinite_pixels_become_0_and_255():
    sink = MemorySink()
    image = lodestar.Image(np.array([[np.nan, np.inf, -np.inf, 0.5]]))
    value = encode_value(sink, image, "img", 0)
    pixels = np.asarray(PIL.Image.open(io.BytesIO(sink.files[value["path"]])))
    assert pixels.tolist() == [[0, 255, 0, 128]]


def test_nan_audio_samples_are_silence():
    sink = MemorySink()
    clip = lodestar.Audio(np.array([np.nan, np.inf, -0.5]), sample_rate=8000)
    value = encode_value(sink, clip, "clip", 0)
    with wave.open(io.BytesIO(sink.files[value["path"]])) as read:
        samples = np.frombuffer(read.readframes(3), dtype="<i2")
    assert samples.tolist() == [0, 32767, -16384]


def test_point_cloud_rows_with_nan_or_infinity_are_left_out_and_counted():
    points = np.array([[0, 0, 0], [np.nan, 1, 1], [2, 2, 2], [3, np.inf, 3]])
    sink = MemorySink()
    value = encode_value(sink, lodestar.Object3D(points), "cloud", 0)
    assert (value["points"], value["point_width"]) == (2, 3)
    assert value["nonfinite_points"] == 2
    stored = json.loads(sink.files[value["path"]])
    assert stored["points"] == [[0.0, 0.0, 0.0], [2.0, 2.0, 2.0]]


def test_point_cloud_of_only_nan_is_empty_not_an_error():
    value = encode_value(MemorySink(), lodestar.Object3D(np.full((4, 3), np.nan)),
                         "cloud", 0)
    assert (value["points"], value["nonfinite_points"]) == (0, 4)


def test_point_cloud_of_text_asks_for_numbers():
    with pytest.raises(UsageError) as raised:
        lodestar.Object3D(np.array([["a", "b", "c"]]))
    assert str(raised.value) == "a point cloud holds numbers, not <U1 values"
