"""Rich values end to end: a training process logs them, `lodestar.Api` reads
them back as they were logged, and a 200,000-row table is paged, sorted and
filtered on the server."""

from __future__ import annotations

import csv
import io
import math
import subprocess
import sys
import textwrap
import urllib.request
from pathlib import Path

import lodestar
import numpy as np
import pandas as pd
import pytest
from polling import wait_for

pytestmark = pytest.mark.timeout(600)

BIG_ROWS = 200_000
LABELS = ["cat", "dog", "bird"]

SCRIPT = """
import sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import lodestar

run = lodestar.init(project="media", id=sys.argv[1])
rgb = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)
gray = (np.arange(6 * 7) % 256).astype(np.uint8).reshape(6, 7)
run.log({"rgb": lodestar.Image(rgb, caption="ramp"),
         "chw": lodestar.Image(np.linspace(0, 1, 3 * 2 * 5).reshape(3, 2, 5)),
         "gray": lodestar.Image(gray),
         "hist": lodestar.Histogram([1.0, 2.0, 2.0, float("nan")], num_bins=4),
         "audio": lodestar.Audio(np.array([0, 100, -100], np.int16), 8000),
         "video": lodestar.Video(np.zeros((2, 3, 4, 4), np.uint8), fps=2),
         "page": lodestar.Html("<p>hi</p>", inject=False),
         "cloud": lodestar.Object3D(np.eye(3)),
         "pair": [lodestar.Image(gray), lodestar.Image(rgb)]})
run.log({"gray": lodestar.Image(gray)})
small = lodestar.Table(columns=["id", "score", "note", "img"])
small.add_data(2**70, float("nan"), "NaN", lodestar.Image(gray))
small.add_data(-1, 0.25, None, None)
run.log({"small": small})
plt.plot([0, 1, 2], [3.0, 1.0, 2.0], label="loss")
run.log({"fig": plt})
curve = lodestar.Table(columns=["x", "y"], data=[[0, 1.0], [1, 0.5]])
run.log({"curve": lodestar.plot.line(curve, "x", "y", title="t")})
n = int(sys.argv[2])
labels = ["cat", "dog", "bird"]
big = lodestar.Table(columns=["i", "score", "label"],
                     data=[[i, (i * 7919 % 100003) / 100003, labels[i % 3]]
                           for i in range(n)])
run.log({"big": big})
run.finish()
"""


def _api(platform) -> lodestar.Api:
    return lodestar.Api(overrides={"base_url": platform.base_url},
                        api_key=platform.api_key)


@pytest.fixture(scope="module")
def media_run(local_platform, tmp_path_factory):
    """The finished run the script logged, read through the Api."""
    work = tmp_path_factory.mktemp("media")
    script = work / "train.py"
    script.write_text(textwrap.dedent(SCRIPT))
    done = subprocess.run([sys.executable, str(script), "media-1", str(BIG_ROWS)],
                          cwd=work, env=local_platform.env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    api = _api(local_platform)
    path = f"{api.default_entity}/media/media-1"

    def finished():
        try:
            run = api.run(path)
        except lodestar.ApiError:
            return None
        return run if run.state == "finished" and "big" in run.summary else None

    run = wait_for(finished, 120, "the media run to finish")
    value = run.summary["big"]
    base = f"/api/v1/runs/{path}/tables/{value['table_id']}"
    wait_for(lambda: _get(local_platform, base)["stored_rows"] == BIG_ROWS, 120,
              "every row of the big table")
    return run, work


def _get(platform, path: str):
    import json

    request = urllib.request.Request(platform.base_url + path)
    request.add_header("Authorization", f"Bearer {platform.api_key}")
    with urllib.request.urlopen(request, timeout=60) as response:
        body = response.read()
    return json.loads(body) if path.find("/download") < 0 else body.decode()


def test_media_values_read_back_as_typed_dicts(media_run):
    run, _ = media_run
    row = next(run.scan_history(keys=["rgb", "chw", "hist", "audio", "video",
                                      "page", "cloud", "pair"]))
    types = {k: row[k]["_type"] for k in ("rgb", "chw", "audio", "video", "page",
                                           "cloud", "pair", "hist")}
    assert types == {"rgb": "image-file", "chw": "image-file",
                     "audio": "audio-file", "video": "video-file",
                     "page": "html-file", "cloud": "object3D-file",
                     "pair": "images/separated", "hist": "histogram"}
    assert {k: row["rgb"][k] for k in ("width", "height", "format", "caption")} == {
        "width": 5, "height": 4, "format": "png", "caption": "ramp"}
    assert (row["chw"]["width"], row["chw"]["height"]) == (5, 2)
    counts, edges = np.histogram([1.0, 2.0, 2.0], bins=4)
    assert row["hist"]["values"] == counts.tolist()
    assert row["hist"]["bins"] == edges.tolist()
    assert row["hist"]["nan_count"] == 1
    assert row["audio"]["sample_rate"] == 8000
    assert row["pair"]["count"] == 2
    fig = run.summary["fig"]
    assert fig["_type"] == "image-file" and fig["chart"]["kind"] == "line_series"
    assert run.summary["curve"]["fields"] == {"x": "x", "y": "y"}


def test_the_same_image_twice_points_at_one_stored_file(media_run):
    run, work = media_run
    rows = list(run.scan_history(keys=["gray"]))
    assert rows[0]["gray"]["path"] == rows[1]["gray"]["path"]
    run_dir = next((work / "lodestar").glob("run-*-media-1"))
    staged = sorted(p.name for p in (run_dir / "files/media/images").iterdir())
    gray_files = [name for name in staged if name.startswith("gray_")]
    assert gray_files == [Path(rows[0]["gray"]["path"]).name]


def test_logged_files_download_pixel_exact(media_run, tmp_path):
    run, _ = media_run
    if not hasattr(run, "file"):
        pytest.skip("run.file() is not part of the Api in this build")
    import PIL.Image

    rows = list(run.scan_history(keys=["gray", "audio"]))
    name = rows[0]["gray"]["path"]
    stored = wait_for(lambda: [f for f in run.files() if f.name == name], 60,
                       f"{name} among the run's files")
    assert len(stored) == 1
    path = run.file(name).download(root=str(tmp_path), replace=True)
    pixels = np.asarray(PIL.Image.open(path))
    assert pixels.tolist() == (np.arange(42) % 256).reshape(6, 7).tolist()
    audio = run.file(rows[0]["audio"]["path"]).download(root=str(tmp_path))
    assert Path(audio).stat().st_size == rows[0]["audio"]["size"]


def test_small_table_reads_back_row_exact(media_run):
    run, _ = media_run
    first, second = run.table("small", pandas=False)
    assert first[0] == 2**70 and math.isnan(first[1]) and first[2] == "NaN"
    assert first[3]["_type"] == "image-file"
    assert second == [-1, 0.25, None, None]
    frame = run.table("small")
    assert list(frame.columns) == ["id", "score", "note", "img"]
    assert frame["note"].isna().tolist() == [False, True]
    assert run.table("curve").values.tolist() == [[0, 1.0], [1, 0.5]]


def _expected_big() -> pd.DataFrame:
    i = np.arange(BIG_ROWS)
    return pd.DataFrame({"i": i, "score": (i * 7919 % 100003) / 100003,
                         "label": np.array(LABELS)[i % 3]})


def test_big_table_is_sorted_and_filtered_on_the_server(media_run):
    run, _ = media_run
    expected = _expected_big()
    chosen = expected[(expected.label == "dog") & (expected.score > 0.9)]
    chosen = chosen.sort_values(["score", "i"], ascending=[False, True])
    found = run.table("big", order="-score", limit=250,
                      filters=[("label", "==", "dog"), ("score", ">", 0.9)])
    assert len(found) == 250
    assert found["i"].tolist() == chosen["i"].head(250).tolist()
    assert found["score"].tolist() == chosen["score"].head(250).tolist()


def test_big_table_pages_and_downloads_whole(media_run, local_platform):
    run, _ = media_run
    table_id = run.summary["big"]["table_id"]
    base = f"/api/v1/runs/{'/'.join(run.path)}/tables/{table_id}"
    page = _get(local_platform, base + "/rows?offset=199990&limit=50")
    assert page["total"] == BIG_ROWS
    assert [r[0] for r in page["rows"]] == list(range(199990, BIG_ROWS))
    text = _get(local_platform, base + "/download?format=csv")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["i", "score", "label"]
    assert len(rows) == BIG_ROWS + 1
    expected = _expected_big()
    assert [int(r[0]) for r in rows[1:]] == expected["i"].tolist()
    assert [float(r[1]) for r in rows[1:]] == expected["score"].tolist()


def test_whole_big_table_reads_back_row_exact(media_run):
    run, _ = media_run
    frame = run.table("big")
    pd.testing.assert_frame_equal(frame, _expected_big(), check_dtype=False)
