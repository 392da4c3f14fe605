"""Decode the query API's JSON values back into exactly what was logged.

Non-finite floats travel as "NaN", "Infinity" and "-Infinity"; a text value
equal to one of those travels as {"$text": ...}. Integers are exact.
"""

from __future__ import annotations

import math
from typing import Any

_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def decode(value: Any) -> Any:
    """The Python value of one JSON value from the API, recursively."""
    if isinstance(value, str):
        return _NONFINITE.get(value, value)
    if isinstance(value, dict):
        if len(value) == 1 and "$text" in value:
            return value["$text"]
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value
