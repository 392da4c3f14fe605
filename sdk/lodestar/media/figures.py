"""matplotlib figures: ``log({"chart": plt})`` and ``log({"fig": figure})``.

A figure is stored as a PNG `Image`. When it is simple lines (one set of axes
holding only ``Line2D`` lines), its JSON value also carries ``"chart"``: a
``line_series`` `Chart` of the lines' points, so a dashboard can draw it
interactively.
"""

from __future__ import annotations

import io
from typing import Any

from .base import Sink
from .chart import Chart
from .image import Image
from .optional import pil_image
from .table import Table


def is_figure(value: Any) -> bool:
    """A matplotlib Figure, or the ``matplotlib.pyplot`` module itself."""
    if getattr(value, "__name__", None) == "matplotlib.pyplot":
        return True
    module = type(value).__module__ or ""
    return module.startswith("matplotlib.figure") and hasattr(value, "savefig")


def figure_json(value: Any, sink: Sink, key: str, step: int) -> dict[str, Any]:
    """The figure's image value, with a line chart when the figure allows."""
    figure = value.gcf() if hasattr(value, "gcf") else value
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    image = Image(pil_image("matplotlib figures").open(io.BytesIO(buffer.getvalue())))
    result = image.to_json(sink, key, step)
    chart = line_chart(figure)
    if chart is not None:
        result["chart"] = chart.to_json(sink, key, step)
    return result


def line_chart(figure: Any) -> Chart | None:
    """A `Chart` of the figure's lines, or None when it is not simple lines."""
    axes = figure.get_axes()
    if len(axes) != 1:
        return None
    ax = axes[0]
    lines = ax.get_lines()
    if not lines or ax.collections or ax.patches or ax.images:
        return None
    table = Table(columns=["series", "x", "y"])
    for index, line in enumerate(lines):
        label = str(line.get_label())
        name = f"line_{index}" if label.startswith("_") else label
        xs, ys = line.get_xdata(), line.get_ydata()
        for x, y in zip(_floats(xs), _floats(ys), strict=False):
            table.add_data(name, x, y)
    fields = {"series": "series", "x": "x", "y": "y"}
    options = {"x_label": ax.get_xlabel(), "y_label": ax.get_ylabel()}
    return Chart("line_series", table, fields, ax.get_title(), options)


def _floats(values: Any) -> list[float]:
    try:
        return [float(v) for v in values]
    except (TypeError, ValueError):
        return [float(i) for i in range(len(values))]  # dates, categories
