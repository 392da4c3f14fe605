"""Images: layouts, dtypes, modes, files, tensors, masks and boxes."""

from __future__ import annotations

import io

import lodestar
import numpy as np
import PIL.Image
import pytest
from lodestar.errors import UsageError
from lodestar.media.values import encode_value
from media_support import MemorySink


def _pixels(sink: MemorySink, value: dict) -> np.ndarray:
    return np.asarray(PIL.Image.open(io.BytesIO(sink.files[value["path"]])))


def _logged(data, **kwargs) -> tuple[MemorySink, dict]:
    sink = MemorySink()
    value = encode_value(sink, lodestar.Image(data, **kwargs), "img", 3)
    return sink, value


def test_grayscale_uint8_round_trips_pixel_exact():
    array = np.arange(60, dtype=np.uint8).reshape(6, 10)
    sink, value = _logged(array, caption="ramp")
    assert value["_type"] == "image-file"
    assert (value["width"], value["height"], value["format"]) == (10, 6, "png")
    assert value["caption"] == "ramp"
    assert value["path"] == f"media/images/img_3_{value['sha256'][:8]}.png"
    assert value["size"] == len(sink.files[value["path"]])
    assert np.array_equal(_pixels(sink, value), array)


@pytest.mark.parametrize("channels", [3, 4])
def test_hwc_and_chw_arrays_store_the_same_pixels(channels):
    rng = np.random.default_rng(channels)
    hwc = rng.integers(0, 256, size=(5, 7, channels), dtype=np.uint8)
    sink_a, hwc_value = _logged(hwc)
    sink_b, chw_value = _logged(hwc.transpose(2, 0, 1))
    assert np.array_equal(_pixels(sink_a, hwc_value), hwc)
    assert np.array_equal(_pixels(sink_b, chw_value), hwc)
    assert hwc_value["mode"] == ("RGB" if channels == 3 else "RGBA")


def test_float_in_unit_range_is_scaled_and_float_above_is_taken_as_pixels():
    unit = np.array([[0.0, 0.5, 1.0]])
    wide = np.array([[0.0, 127.6, 300.0]])
    sink, value = _logged(unit)
    assert _pixels(sink, value).tolist() == [[0, 128, 255]]
    sink, value = _logged(wide)
    assert _pixels(sink, value).tolist() == [[0, 128, 255]]


def test_single_channel_bool_and_wide_int_arrays_become_grayscale():
    sink, value = _logged(np.array([[[True], [False]]]))  # 1x2x1
    assert _pixels(sink, value).tolist() == [[255, 0]]
    sink, value = _logged(np.array([[[-5, 70, 999]]], dtype=np.int32))  # 1x1x3 CHW?
    assert value["mode"] == "RGB"
    assert _pixels(sink, value).tolist() == [[[0, 70, 255]]]
    sink, value = _logged(np.array([[[1, 2]]], dtype=np.uint16))  # 1 channel CHW
    assert _pixels(sink, value).tolist() == [[1, 2]]


def test_nan_pixels_are_zero():
    sink, value = _logged(np.array([[np.nan, 1.0]]))
    assert _pixels(sink, value).tolist() == [[0, 255]]


class _FakeTensor:
    """Has the methods by which the SDK recognises a torch tensor."""

    def __init__(self, array: np.ndarray) -> None:
        self._array = array

    def detach(self):
        return self

    def cpu(self):
        return self

    def numpy(self):
        return self._array


def test_tensors_are_read_through_their_numpy_view():
    chw = np.random.default_rng(1).random((3, 4, 5)).astype(np.float32)
    sink, value = _logged(_FakeTensor(chw))
    expected = np.rint(chw.transpose(1, 2, 0).astype(np.float64) * 255)
    assert np.array_equal(_pixels(sink, value), expected.astype(np.uint8))


def test_pil_images_keep_their_mode_and_mode_argument_converts():
    rgba = PIL.Image.new("RGBA", (3, 2), (10, 20, 30, 40))
    sink, value = _logged(rgba)
    assert value["mode"] == "RGBA"
    assert _pixels(sink, value)[0, 0].tolist() == [10, 20, 30, 40]
    sink, value = _logged(rgba, mode="L")
    assert value["mode"] == "L"


def test_image_file_is_stored_byte_for_byte(tmp_path):
    path = tmp_path / "photo.jpg"
    PIL.Image.new("RGB", (8, 4), (200, 10, 10)).save(path, format="JPEG")
    sink, value = _logged(str(path))
    assert value["format"] == "jpeg"
    assert value["path"].endswith(".jpeg")
    assert sink.files[value["path"]] == path.read_bytes()
    assert (value["width"], value["height"]) == (8, 4)


def test_a_list_of_images_is_one_value():
    sink = MemorySink()
    images = [lodestar.Image(np.full((2, 2), i, dtype=np.uint8)) for i in range(3)]
    value = encode_value(sink, images, "batch", 0)
    assert value["_type"] == "images/separated"
    assert value["count"] == 3
    assert [_pixels(sink, v)[0, 0] for v in value["images"]] == [0, 1, 2]


def test_bad_shapes_and_files_fail_with_the_shape_in_the_message(tmp_path):
    with pytest.raises(UsageError, match=r"not shape \(2, 5, 5, 5\)"):
        lodestar.Image(np.zeros((2, 5, 5, 5)))
    with pytest.raises(UsageError, match=r"not shape \(5, 5, 2\)"):
        lodestar.Image(np.zeros((5, 5, 2)))
    with pytest.raises(UsageError, match="is empty"):
        lodestar.Image(np.zeros((0, 4)))
    with pytest.raises(UsageError, match="cannot read the image file"):
        lodestar.Image(str(tmp_path / "missing.png"))


def test_masks_are_stored_as_png_and_boxes_as_json():
    mask = np.array([[0, 1, 1], [2, 2, 0]], dtype=np.int64)
    boxes = {"predictions": {"box_data": [
        {"position": {"minX": 0.1, "maxX": 0.5, "minY": 0.2, "maxY": 0.9},
         "class_id": 1, "box_caption": "cat", "scores": {"acc": 0.75}},
        {"position": {"middle": [1, 1], "width": 2, "height": 1},
         "domain": "pixel", "class_id": np.int64(2)},
    ]}}
    image = lodestar.Image(np.zeros((2, 3, 3)), masks={
        "ground_truth": {"mask_data": mask, "class_labels": {1: "cat", 2: "dog"}},
    }, boxes=boxes, classes=[{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}])
    sink = MemorySink()
    value = encode_value(sink, image, "seg", 5)
    truth = value["masks"]["ground_truth"]
    assert truth["_type"] == "mask"
    assert truth["class_labels"] == {"1": "cat", "2": "dog"}
    assert np.array_equal(_pixels(sink, truth), mask)
    stored = value["boxes"]["predictions"]
    assert stored["box_data"][0] == boxes["predictions"]["box_data"][0]
    assert stored["box_data"][1]["class_id"] == 2
    assert stored["box_data"][1]["domain"] == "pixel"
    assert stored["class_labels"] == {"1": "cat", "2": "dog"}


def test_malformed_overlays_name_what_is_wrong():
    base = np.zeros((2, 3))
    with pytest.raises(UsageError, match="mask 'm' is 4x1; the image is 3x2"):
        lodestar.Image(base, masks={"m": {"mask_data": np.zeros((1, 4), int)}})
    with pytest.raises(UsageError, match="integer class ids"):
        lodestar.Image(base, masks={"m": {"mask_data": np.zeros((2, 3))}})
    with pytest.raises(UsageError, match="box 0 of 'b': position needs"):
        lodestar.Image(base, boxes={"b": {"box_data": [{"position": {"x": 1}}]}})
    with pytest.raises(UsageError, match="domain 'percent'"):
        lodestar.Image(base, boxes={"b": {"box_data": [{
            "position": {"minX": 0, "maxX": 1, "minY": 0, "maxY": 1},
            "domain": "percent"}]}})
