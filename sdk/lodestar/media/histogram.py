"""`Histogram`: counts of values in at most 512 bins, stored as JSON.

The rule for awkward input, so that what is stored is always well formed:

- NaN, +Infinity and -Infinity entries are left out of the bins; how many
  were left out is kept as ``nan_count`` and ``inf_count``.
- With no finite entry left (an empty sequence included) the histogram has
  one bin, ``[0.0, 1.0]``, holding 0.
- All-equal values follow numpy: the range is ``[v - 0.5, v + 0.5]`` cut
  into ``num_bins`` bins, and every value lands in the middle one.

``bins`` has one more entry than ``values`` (its edges); the bins are those
of ``numpy.histogram(finite_values, bins=num_bins)`` exactly.
"""

from __future__ import annotations

from typing import Any

from ..errors import UsageError
from .arrays import as_array
from .base import JsonMedia, Sink
from .optional import numpy

MAX_BINS = 512


class Histogram(JsonMedia):
    """A histogram of `sequence`, or one made already by ``numpy.histogram``.

    Args:
        sequence: numbers (a list, an array, a tensor).
        np_histogram: ``(values, bins)`` as ``numpy.histogram`` returns them.
        num_bins: 1 to 512.

    Raises:
        UsageError: both or neither input given, values that are not numbers,
            too many bins, or a ``np_histogram`` whose edges do not match its
            counts.
    """

    def __init__(
        self, sequence: Any = None, np_histogram: Any = None, num_bins: int = 64
    ) -> None:
        if (sequence is None) == (np_histogram is None):
            raise UsageError("Histogram needs either sequence or np_histogram")
        if not isinstance(num_bins, int) or not 1 <= num_bins <= MAX_BINS:
            raise UsageError(f"num_bins={num_bins!r}; use 1 to {MAX_BINS} bins")
        self.nan_count = 0
        self.inf_count = 0
        if np_histogram is not None:
            self.values, self.bins = _given(np_histogram)
        else:
            self.values, self.bins = self._count(sequence, num_bins)

    def _count(self, sequence: Any, num_bins: int) -> tuple[list[Any], list[float]]:
        np = numpy("lodestar.Histogram")
        try:
            array = as_array(sequence, "lodestar.Histogram").astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise UsageError(f"Histogram needs numbers; {exc}") from exc
        array = array.ravel()
        self.nan_count = int(np.isnan(array).sum())
        self.inf_count = int(np.isinf(array).sum())
        finite = array[np.isfinite(array)]
        if not finite.size:
            return [0], [0.0, 1.0]
        counts, edges = np.histogram(finite, bins=num_bins)
        return counts.tolist(), edges.tolist()

    def to_json(self, sink: Sink | None = None, key: str = "",
                step: int = 0) -> dict[str, Any]:
        value: dict[str, Any] = {"_type": "histogram", "bins": self.bins,
                                 "values": self.values}
        if self.nan_count or self.inf_count:
            value["nan_count"] = self.nan_count
            value["inf_count"] = self.inf_count
        return value

    def __repr__(self) -> str:
        return f"<Histogram {len(self.values)} bins>"


def _given(np_histogram: Any) -> tuple[list[Any], list[float]]:
    try:
        counts, edges = np_histogram
    except (TypeError, ValueError) as exc:
        raise UsageError("np_histogram must be (values, bins)") from exc
    values = as_array(counts, "lodestar.Histogram").ravel().tolist()
    bins = [float(b) for b in as_array(edges, "lodestar.Histogram").ravel().tolist()]
    if len(bins) != len(values) + 1:
        raise UsageError(f"np_histogram has {len(values)} values and {len(bins)} "
                         "bin edges; edges must be one more than values")
    if not 1 <= len(values) <= MAX_BINS:
        raise UsageError(f"np_histogram has {len(values)} bins; use 1 to {MAX_BINS}")
    return values, bins
