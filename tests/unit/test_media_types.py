"""Histograms, audio, video, HTML, 3-D objects, figures and missing extras."""

from __future__ import annotations

import io
import json
import sys
import wave

import lodestar
import numpy as np
import PIL.Image
import pytest
from lodestar.errors import MissingExtra, UsageError
from lodestar.media.values import encode_value
from media_support import MemorySink


def _json(value) -> dict:
    return encode_value(MemorySink(), value, "k", 0)


def test_histogram_bins_equal_numpy_histogram_of_the_finite_values():
    data = np.random.default_rng(0).normal(size=1000)
    value = _json(lodestar.Histogram(np.r_[data, np.nan, np.inf, -np.inf],
                                     num_bins=37))
    counts, edges = np.histogram(data, bins=37)
    assert value["_type"] == "histogram"
    assert value["values"] == counts.tolist()
    assert value["bins"] == edges.tolist()
    assert (value["nan_count"], value["inf_count"]) == (1, 2)


def test_histogram_of_nothing_or_only_nan_is_one_empty_bin():
    for data in ([], [float("nan")] * 3):
        value = _json(lodestar.Histogram(data))
        assert (value["bins"], value["values"]) == ([0.0, 1.0], [0])
    assert "nan_count" not in _json(lodestar.Histogram([]))


def test_histogram_of_equal_values_puts_them_in_the_middle_bin():
    value = _json(lodestar.Histogram([2.0] * 5, num_bins=3))
    assert value["bins"] == np.histogram([2.0] * 5, bins=3)[1].tolist()
    assert value["values"] == [0, 5, 0]


def test_histogram_limits_and_np_histogram_input():
    with pytest.raises(UsageError, match="num_bins=513; use 1 to 512"):
        lodestar.Histogram([1], num_bins=513)
    with pytest.raises(UsageError, match="either sequence or np_histogram"):
        lodestar.Histogram()
    with pytest.raises(UsageError, match="edges must be one more"):
        lodestar.Histogram(np_histogram=([1, 2], [0, 1]))
    value = _json(lodestar.Histogram(np_histogram=([3, 4], [0, 1, 2])))
    assert (value["values"], value["bins"]) == ([3, 4], [0.0, 1.0, 2.0])


def _wav_samples(data: bytes) -> tuple[np.ndarray, int, int]:
    with wave.open(io.BytesIO(data)) as clip:
        frames = clip.readframes(clip.getnframes())
        return np.frombuffer(frames, "<i2"), clip.getframerate(), clip.getnchannels()


def test_audio_int16_round_trips_and_floats_scale_to_pcm16():
    stereo = np.array([[0, 1], [-32768, 32767], [5, -5]], dtype=np.int16)
    sink = MemorySink()
    value = encode_value(sink, lodestar.Audio(stereo, sample_rate=8000), "a", 1)
    samples, rate, channels = _wav_samples(sink.files[value["path"]])
    assert (rate, channels, value["channels"]) == (8000, 2, 2)
    assert samples.reshape(-1, 2).tolist() == stereo.tolist()
    assert value["duration"] == 3 / 8000
    sink = MemorySink()
    value = encode_value(sink, lodestar.Audio(np.array([0.0, 0.5, -2.0]), 100), "a", 1)
    assert _wav_samples(sink.files[value["path"]])[0].tolist() == [0, 16384, -32767]
    with pytest.raises(UsageError, match="needs sample_rate"):
        lodestar.Audio(np.zeros(3))


def test_video_gif_holds_every_frame():
    frames = np.zeros((5, 3, 6, 8), dtype=np.uint8)
    for t in range(5):
        frames[t, 0] = t * 50
    sink = MemorySink()
    value = encode_value(sink, lodestar.Video(frames, fps=10), "clip", 2)
    assert (value["format"], value["frames"], value["width"], value["height"]) == (
        "gif", 5, 8, 6)
    gif = PIL.Image.open(io.BytesIO(sink.files[value["path"]]))
    assert gif.n_frames == 5
    gif.seek(4)
    assert np.asarray(gif.convert("RGB"))[0, 0].tolist() == [200, 0, 0]


def test_video_mp4_is_encoded_when_imageio_ffmpeg_is_installed():
    pytest.importorskip("imageio_ffmpeg")
    value = _json(lodestar.Video(np.zeros((3, 3, 16, 16), np.uint8), format="mp4"))
    assert value["format"] == "mp4"
    assert value["path"].endswith(".mp4")


def test_video_mp4_without_imageio_ffmpeg_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)
    with pytest.raises(MissingExtra) as caught:
        lodestar.Video(np.zeros((2, 3, 4, 4), np.uint8), format="webm")
    assert caught.value.package == "imageio-ffmpeg"
    assert 'pip install "lodestar[video]"' in str(caught.value)


def test_missing_pillow_names_the_media_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL.Image", None)
    with pytest.raises(MissingExtra, match=r'pip install "lodestar\[media\]"'):
        lodestar.Image(np.zeros((2, 2)))


def test_video_rejects_unknown_formats_and_shapes():
    with pytest.raises(UsageError, match="video format 'avi'"):
        lodestar.Video(np.zeros((1, 3, 2, 2)), format="avi")
    with pytest.raises(UsageError, match=r"not shape \(3, 2, 2\)"):
        lodestar.Video(np.zeros((3, 2, 2)))


def test_html_text_is_stored_with_an_injected_head_or_as_given(tmp_path):
    sink = MemorySink()
    value = encode_value(sink, lodestar.Html("<html><head></head><b>x</b></html>"),
                         "page", 0)
    text = sink.files[value["path"]].decode()
    assert value["_type"] == "html-file" and value["format"] == "html"
    assert text.startswith("<html><head><meta charset=")
    path = tmp_path / "report.html"
    path.write_text("<p>plain</p>")
    value = encode_value(sink, lodestar.Html(str(path), inject=False), "page", 1)
    assert sink.files[value["path"]] == b"<p>plain</p>"


@pytest.mark.parametrize("width", [3, 4, 6])
def test_point_clouds_are_stored_as_given(width):
    points = np.arange(5 * width, dtype=np.float64).reshape(5, width)
    sink = MemorySink()
    value = encode_value(sink, lodestar.Object3D(points), "cloud", 0)
    assert value["_type"] == "object3D-file"
    assert (value["points"], value["point_width"]) == (5, width)
    stored = json.loads(sink.files[value["path"]])
    assert stored["points"] == points.tolist()


def test_3d_files_keep_their_bytes_and_bad_shapes_fail(tmp_path):
    path = tmp_path / "cube.glb"
    path.write_bytes(b"glTF\x02\x00\x00\x00")
    value = _json(lodestar.Object3D(str(path)))
    assert value["format"] == "glb"
    with pytest.raises(UsageError, match=r"N×3, N×4 or N×6, not shape \(4, 5\)"):
        lodestar.Object3D(np.zeros((4, 5)))
    with pytest.raises(UsageError, match="not a 3-D file"):
        lodestar.Object3D(str(tmp_path / "cube.stl"))


def test_matplotlib_line_figure_gives_a_png_and_a_line_chart():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots()
    axes.plot([0, 1, 2], [1.0, 0.5, 0.25], label="loss")
    axes.set_title("curve")
    sink = MemorySink()
    value = encode_value(sink, figure, "fig", 4)
    assert value["_type"] == "image-file"
    assert PIL.Image.open(io.BytesIO(sink.files[value["path"]])).format == "PNG"
    chart = value["chart"]
    assert (chart["_type"], chart["kind"], chart["title"]) == (
        "chart", "line_series", "curve")
    assert chart["table"]["nrows"] == 3
    rows = [json.loads(r) for c in sink.chunks for r in c.rows_json]
    assert rows == [["loss", 0.0, 1.0], ["loss", 1.0, 0.5], ["loss", 2.0, 0.25]]
    axes.bar([0], [1])
    assert "chart" not in encode_value(MemorySink(), plt, "fig", 5)
    plt.close("all")


def test_a_3d_scene_keeps_its_boxes_and_vectors():
    corners = [[x, y, z] for x in (0, 1) for y in (0, 1) for z in (0, 1)]
    scene = {"type": "lidar/beta", "points": np.zeros((4, 3)),
             "boxes": [{"corners": np.array(corners), "label": "car",
                        "color": [255, 0, 0], "score": 0.9}],
             "vectors": [{"start": [0, 0, 0], "end": [1, 2, 3]}]}
    sink = MemorySink()
    value = encode_value(sink, lodestar.Object3D(scene), "scene", 0)
    stored = json.loads(sink.files[value["path"]])
    assert (value["points"], value["boxes"]) == (4, 1)
    assert stored["boxes"] == [{"corners": [[float(c) for c in p] for p in corners],
                                "label": "car", "color": [255, 0, 0], "score": 0.9}]
    assert stored["vectors"] == [{"start": [0.0, 0.0, 0.0], "end": [1.0, 2.0, 3.0]}]


@pytest.mark.parametrize(("scene", "message"), [
    ({"boxes": []}, "needs 'points'"),
    ({"points": np.zeros((2, 3)), "meshes": []}, r"no keys \['meshes'\]"),
    ({"points": np.zeros((2, 3)), "boxes": [{"corners": [[0, 0, 0]] * 7}]},
     "box 0 has 7 corners"),
    ({"points": np.zeros((2, 3)), "boxes": [{"corners": [[0, 0, 0]] * 8,
                                             "color": [300, 0, 0]}]},
     "box 0 color must be"),
    ({"points": np.zeros((2, 3)), "vectors": [{"start": [0, 0, 0]}]},
     "vector 0 must be a dict with 'start' and 'end'"),
    ({"points": np.zeros((2, 3)), "vectors": [{"start": [0, 0], "end": [1, 1, 1]}]},
     r"vector 0 start must be \(x, y, z\)"),
])
def test_a_bad_3d_scene_says_what_to_fix(scene, message):
    with pytest.raises(UsageError, match=message):
        lodestar.Object3D(scene)
