"""Log artifacts for the browser tests: ``python log_artifacts.py PROJECT DIR``.

Run ``prep`` logs the dataset ``digits`` (a text file, a PNG, a CSV, a file
two folders deep, a Lodestar table and a reference that is not stored) with
metadata and the alias ``golden``; run ``train`` uses ``digits:golden``, logs
the model ``classifier`` and saves the run file ``eval/metrics.csv``. DIR is
where the source files are written.
"""

from __future__ import annotations

import sys
from pathlib import Path

import lodestar
import numpy as np
from PIL import Image as PILImage

NOTES = "Handwritten digits, resampled to 8x8.\n" + "".join(
    f"line {i}: pixels are 0-16\n" for i in range(40)
)
CSV = "id,label,weight\n0,zero,0.5\n1,one,0.25\n2,two,0.125\n"


def write_sources(root: Path) -> None:
    """The dataset's files on disk, with a nested folder."""
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "raw" / "deep").mkdir(parents=True, exist_ok=True)
    (root / "notes.txt").write_text(NOTES)
    (root / "labels.csv").write_text(CSV)
    (root / "raw" / "deep" / "readme.md").write_text("# raw\nnested file\n")
    pixels = np.zeros((24, 32, 3), dtype=np.uint8)
    pixels[:, :, 0] = 220
    pixels[6:18, 8:24] = (20, 200, 40)
    PILImage.fromarray(pixels).save(root / "images" / "sample.png")
    (root / "external.bin").write_bytes(b"\x00" * 64)


def log_dataset(project: str, root: Path) -> None:
    run = lodestar.init(project=project, id="prep", name="prep",
                        job_type="preprocess", reinit=True)
    data = lodestar.Artifact(
        "digits", type="dataset", description="Digits for the classifier.",
        metadata={"rows": 3, "source": "synthetic", "split": {"train": 0.8}},
    )
    data.add_file(root / "notes.txt")
    data.add_file(root / "labels.csv")
    data.add_dir(root / "images", name="images")
    data.add_dir(root / "raw", name="raw")
    data.add(lodestar.Table(columns=["digit", "count"], data=[[0, 10], [1, 12]]),
             "counts")
    data.add_reference((root / "external.bin").as_uri(), name="external.bin")
    run.log_artifact(data, aliases=["golden"])
    run.finish()


def log_model(project: str, root: Path) -> None:
    run = lodestar.init(project=project, id="train", name="train",
                        job_type="train", reinit=True)
    run.use_artifact("digits:golden")
    (root / "model.bin").write_bytes(bytes(range(256)) * 4)
    model = lodestar.Artifact("classifier", type="model",
                              metadata={"accuracy": 0.97})
    model.add_file(root / "model.bin")
    run.log_artifact(model)
    (root / "eval").mkdir(exist_ok=True)
    (root / "eval" / "metrics.csv").write_text("metric,value\nacc,0.97\n")
    run.save(str(root / "eval" / "metrics.csv"), base_path=str(root), policy="now")
    run.finish()


def main() -> None:
    project, root = sys.argv[1], Path(sys.argv[2])
    write_sources(root)
    log_dataset(project, root)
    log_model(project, root)


if __name__ == "__main__":
    main()
