"""Charts to log: each is a `Table` plus a description of how to draw it.

    table = lodestar.Table(columns=["epoch", "loss"], data=rows)
    run.log({"loss_curve": lodestar.plot.line(table, "epoch", "loss")})

The curve helpers (`pr_curve`, `roc_curve`, `confusion_matrix`) compute their
points with numpy from labels and predicted probabilities, so they need the
``media`` extra; the others take a table as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .errors import UsageError
from .media.arrays import as_array
from .media.chart import Chart
from .media.table import Table

MAX_CURVE_POINTS = 1000

__all__ = ["bar", "confusion_matrix", "histogram", "line", "line_series",
           "pr_curve", "roc_curve", "scatter"]


def line(table: Table, x: str, y: str, stroke: str | None = None,
         title: str = "") -> Chart:
    """Points of `y` against `x`, one line per value of `stroke` if given."""
    fields = {"x": x, "y": y, **({"stroke": stroke} if stroke else {})}
    return Chart("line", table, fields, title)


def scatter(table: Table, x: str, y: str, title: str = "") -> Chart:
    return Chart("scatter", table, {"x": x, "y": y}, title)


def bar(table: Table, label: str, value: str, title: str = "") -> Chart:
    return Chart("bar", table, {"label": label, "value": value}, title)


def histogram(table: Table, value: str, title: str = "") -> Chart:
    return Chart("histogram", table, {"value": value}, title)


def line_series(
    xs: Sequence[Any], ys: Sequence[Sequence[Any]], keys: Sequence[str] | None = None,
    title: str = "", xname: str = "x",
) -> Chart:
    """Several lines: `ys` holds one sequence per line; `xs` is shared by all
    lines or holds one sequence per line.

    Raises:
        UsageError: `keys` or `xs` do not match the number of lines.
    """
    names = list(keys) if keys is not None else [f"line_{i}" for i in range(len(ys))]
    if len(names) != len(ys):
        raise UsageError(f"line_series has {len(ys)} lines but {len(names)} keys")
    shared = not (len(xs) and isinstance(xs[0], (list, tuple)) or _is_2d(xs))
    if not shared and len(xs) != len(ys):
        raise UsageError(f"line_series has {len(ys)} lines but {len(xs)} x lists")
    table = Table(columns=["series", xname, "y"])
    for index, (name, values) in enumerate(zip(names, ys, strict=True)):
        line_xs = xs if shared else xs[index]
        for x, y in zip(_plain(line_xs), _plain(values), strict=False):
            table.add_data(name, x, y)
    return Chart("line_series", table, {"series": "series", "x": xname, "y": "y"},
                 title)


def pr_curve(
    y_true: Any, y_probas: Any, labels: Sequence[str] | None = None,
    classes_to_plot: Sequence[int] | None = None, title: str = "",
) -> Chart:
    """Precision against recall, one curve per class (one-vs-rest)."""
    table = Table(columns=["class", "recall", "precision"])
    for name, truth, scores in _per_class(y_true, y_probas, labels, classes_to_plot):
        precision, recall, _ = _pr_points(truth, scores)
        for r, p in _thin(list(zip(recall, precision, strict=True))):
            table.add_data(name, r, p)
    return Chart("pr_curve", table, {"series": "class", "x": "recall",
                                     "y": "precision"}, title)


def roc_curve(
    y_true: Any, y_probas: Any, labels: Sequence[str] | None = None,
    classes_to_plot: Sequence[int] | None = None, title: str = "",
) -> Chart:
    """True-positive rate against false-positive rate, one curve per class."""
    table = Table(columns=["class", "fpr", "tpr"])
    for name, truth, scores in _per_class(y_true, y_probas, labels, classes_to_plot):
        fpr, tpr = _roc_points(truth, scores)
        for f, t in _thin(list(zip(fpr, tpr, strict=True))):
            table.add_data(name, f, t)
    return Chart("roc_curve", table, {"series": "class", "x": "fpr", "y": "tpr"},
                 title)


def confusion_matrix(
    probs: Any = None, y_true: Any = None, preds: Any = None,
    class_names: Sequence[str] | None = None, title: str = "",
) -> Chart:
    """Counts of (actual, predicted) pairs; `preds` or `probs` (argmax) given.

    Raises:
        UsageError: neither or both of `preds` and `probs`, `y_true` and them
            of different lengths, or a class id outside `class_names`.
    """
    if y_true is None or (probs is None) == (preds is None):
        raise UsageError("confusion_matrix needs y_true and one of preds or probs")
    truth = as_array(y_true, "plot.confusion_matrix").astype(int).ravel()
    if preds is None:
        predicted = as_array(probs, "plot.confusion_matrix").argmax(axis=1)
    else:
        predicted = as_array(preds, "plot.confusion_matrix").astype(int).ravel()
    if len(predicted) != len(truth):
        given = "preds" if probs is None else "probs"
        raise UsageError(f"confusion_matrix has {len(truth)} y_true labels but "
                         f"{len(predicted)} {given}; give one per example")
    count = int(max(truth.max(initial=-1), predicted.max(initial=-1))) + 1
    names = list(class_names) if class_names else [str(i) for i in range(count)]
    if count > len(names):
        raise UsageError(f"class id {count - 1} has no name in class_names {names}")
    counts: dict[tuple[int, int], int] = {}
    for actual, guess in zip(truth.tolist(), predicted.tolist(), strict=True):
        counts[(actual, guess)] = counts.get((actual, guess), 0) + 1
    table = Table(columns=["Actual", "Predicted", "nPredictions"])
    for actual, name in enumerate(names):
        for guess, other in enumerate(names):
            table.add_data(name, other, counts.get((actual, guess), 0))
    fields = {"actual": "Actual", "predicted": "Predicted", "value": "nPredictions"}
    return Chart("confusion_matrix", table, fields, title)


def _is_2d(values: Any) -> bool:
    return getattr(values, "ndim", 1) == 2


def _plain(values: Any) -> list[Any]:
    return values.tolist() if hasattr(values, "tolist") else list(values)


def _per_class(
    y_true: Any, y_probas: Any, labels: Sequence[str] | None,
    classes: Sequence[int] | None,
) -> list[tuple[str, Any, Any]]:
    truth = as_array(y_true, "lodestar.plot curves").ravel()
    probas = as_array(y_probas, "lodestar.plot curves")
    if probas.ndim == 1:
        probas = probas.reshape(-1, 1)
    if probas.shape[0] != truth.shape[0]:
        raise UsageError(f"y_true has {truth.shape[0]} labels but y_probas "
                         f"{probas.shape[0]} rows")
    chosen = list(classes) if classes is not None else range(probas.shape[1])
    if probas.shape[1] == 1:  # binary: the scores of class 1
        return [(_name(labels, 1), truth == 1, probas[:, 0])]
    return [(_name(labels, c), truth == c, probas[:, c]) for c in chosen]


def _name(labels: Sequence[str] | None, index: int) -> str:
    return str(labels[index]) if labels is not None else str(index)


def _pr_points(truth: Any, scores: Any) -> tuple[list[float], list[float], Any]:
    np = _np()
    order = np.argsort(-scores, kind="stable")
    hits = np.cumsum(truth[order])
    seen = np.arange(1, len(order) + 1)
    cut = np.r_[np.nonzero(np.diff(scores[order]))[0], len(order) - 1]
    positives = max(int(truth.sum()), 1)
    precision = (hits[cut] / seen[cut]).tolist()
    recall = (hits[cut] / positives).tolist()
    return [1.0, *precision], [0.0, *recall], scores[order][cut]


def _roc_points(truth: Any, scores: Any) -> tuple[list[float], list[float]]:
    np = _np()
    order = np.argsort(-scores, kind="stable")
    hits = np.cumsum(truth[order])
    misses = np.cumsum(~truth[order])
    cut = np.r_[np.nonzero(np.diff(scores[order]))[0], len(order) - 1]
    tpr = hits[cut] / max(int(truth.sum()), 1)
    fpr = misses[cut] / max(int((~truth).sum()), 1)
    return [0.0, *fpr.tolist()], [0.0, *tpr.tolist()]


def _thin(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    if len(points) <= MAX_CURVE_POINTS:
        return points
    stride = (len(points) - 1) / (MAX_CURVE_POINTS - 1)
    return [points[round(i * stride)] for i in range(MAX_CURVE_POINTS)]


def _np() -> Any:
    from .media.optional import numpy

    return numpy("lodestar.plot curves")
