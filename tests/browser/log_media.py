"""Log media for the browser tests: ``python log_media.py PROJECT RUN_ID``.

Three steps of an image (with a mask and a box), a histogram and audio, and
one 60-row table, then finish.
"""

from __future__ import annotations

import sys

import lodestar
import numpy as np

ROWS = 60


def main() -> None:
    project, run_id = sys.argv[1], sys.argv[2]
    run = lodestar.init(project=project, id=run_id, name=run_id, reinit=True)
    rng = np.random.default_rng(7)
    for step in range(3):
        pixels = np.zeros((32, 48, 3), dtype=np.uint8)
        pixels[:, :, step] = 200
        pixels[8:24, 12:36] = 255
        mask = np.zeros((32, 48), dtype=np.uint8)
        mask[8:24, 12:36] = 1
        image = lodestar.Image(
            pixels, caption=f"sample {step}",
            masks={"truth": {"mask_data": mask, "class_labels": {1: "square"}}},
            boxes={"pred": {"box_data": [{
                "position": {"minX": 12, "maxX": 36, "minY": 8, "maxY": 24},
                "domain": "pixel", "class_id": 1, "scores": {"p": 0.9}}],
                "class_labels": {1: "square"}}},
        )
        tone = np.sin(np.linspace(0, 440 * 2 * np.pi, 8000)).astype(np.float32)
        run.log({"samples": image,
                 "weights": lodestar.Histogram(rng.normal(step, 1.0, 500)),
                 "tone": lodestar.Audio(tone, sample_rate=8000, caption="A4")},
                step=step)
    table = lodestar.Table(columns=["id", "score", "label"],
                           data=[[i, round(i / ROWS, 3), f"row-{i}"]
                                 for i in range(ROWS)])
    run.log({"predictions": table}, step=3)
    run.finish()


if __name__ == "__main__":
    main()
