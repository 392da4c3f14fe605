"""Log media for the browser tests: ``python log_media.py PROJECT RUN_ID``.

Three steps of an image (with a mask and a box) and audio, twelve steps of a
histogram, then at step 12: a 60-row table with an image column, a point
cloud larger than the viewer draws, a scene with a box and a vector, a webm
clip, a page of HTML, PR and ROC curves and a confusion matrix; then finish.
"""

from __future__ import annotations

import sys

import lodestar
import numpy as np

ROWS = 60
HISTOGRAM_STEPS = 12
CLOUD_POINTS = 70_000
CLASSES = ["cat", "dog", "bird"]


def sample(step: int) -> lodestar.Image:
    pixels = np.zeros((32, 48, 3), dtype=np.uint8)
    pixels[:, :, step] = 200
    pixels[8:24, 12:36] = 255
    mask = np.zeros((32, 48), dtype=np.uint8)
    mask[8:24, 12:36] = 1
    return lodestar.Image(
        pixels, caption=f"sample {step}",
        masks={"truth": {"mask_data": mask, "class_labels": {1: "square"}}},
        boxes={"pred": {"box_data": [
            {"position": {"minX": 12, "maxX": 36, "minY": 8, "maxY": 24},
             "domain": "pixel", "class_id": 1, "scores": {"p": 0.9}},
            {"position": {"minX": 2, "maxX": 10, "minY": 2, "maxY": 10},
             "domain": "pixel", "class_id": 2, "scores": {"p": 0.4}}],
            "class_labels": {1: "square", 2: "corner"}}},
    )


def cloud(rng: np.random.Generator) -> lodestar.Object3D:
    """A coloured ball: x, y, z and r, g, b from the position."""
    points = rng.normal(0.0, 1.0, (CLOUD_POINTS, 3))
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    colours = np.round((points + 1) * 127.5)
    return lodestar.Object3D(np.hstack([np.round(points, 3), colours]))


def scene() -> lodestar.Object3D:
    """One point in a red unit box, and a green vector out of it."""
    corners = [[x, y, z] for x in (0, 1) for y in (0, 1) for z in (0, 1)]
    return lodestar.Object3D({
        "type": "lidar/beta", "points": np.array([[0.5, 0.5, 0.5, 1]]),
        "boxes": [{"corners": corners, "label": "car", "color": [255, 0, 0]}],
        "vectors": [{"start": [0, 0, 0], "end": [2, 2, 2], "color": [0, 255, 0]}],
    }, caption="scene")


def table() -> lodestar.Table:
    thumbs = []
    for shade in range(3):
        pixels = np.zeros((16, 16, 3), dtype=np.uint8)
        pixels[:, :, shade] = 220
        thumbs.append(lodestar.Image(pixels))
    return lodestar.Table(columns=["id", "score", "label", "thumb"],
                          data=[[i, round(i / ROWS, 3), f"row-{i}", thumbs[i % 3]]
                                for i in range(ROWS)])


def predictions(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Labels of 300 samples and scores that favour the right class."""
    truth = np.arange(300) % len(CLASSES)
    logits = rng.normal(0.0, 1.0, (300, len(CLASSES)))
    logits[np.arange(300), truth] += 1.5
    probas = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return truth, probas


def main() -> None:
    project, run_id = sys.argv[1], sys.argv[2]
    run = lodestar.init(project=project, id=run_id, name=run_id, reinit=True)
    rng = np.random.default_rng(7)
    tone = np.sin(np.linspace(0, 440 * 2 * np.pi, 8000)).astype(np.float32)
    for step in range(HISTOGRAM_STEPS):
        row = {"weights": lodestar.Histogram(rng.normal(step / 3, 1.0, 500))}
        if step < 3:
            row["samples"] = sample(step)
            row["tone"] = lodestar.Audio(tone, sample_rate=8000, caption="A4")
        run.log(row, step=step)
    truth, probas = predictions(rng)
    frames = np.zeros((8, 3, 32, 32), dtype=np.uint8)
    for i in range(8):
        frames[i, 0, :, i * 4:(i + 1) * 4] = 255
    run.log({
        "predictions": table(),
        "cloud": cloud(rng),
        "scene": scene(),
        "clip": lodestar.Video(frames, fps=4, format="webm", caption="sweep"),
        "page": lodestar.Html("<h1>report</h1><p>ok</p>"),
        "pr": lodestar.plot.pr_curve(truth, probas, labels=CLASSES, title="PR"),
        "roc": lodestar.plot.roc_curve(truth, probas, labels=CLASSES, title="ROC"),
        "confusion": lodestar.plot.confusion_matrix(
            y_true=truth, preds=probas.argmax(axis=1), class_names=CLASSES),
    }, step=HISTOGRAM_STEPS)
    run.finish()


if __name__ == "__main__":
    main()
