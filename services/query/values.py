"""JSON for values that plain JSON cannot hold.

The convention, which `lodestar.Api` and the dashboard decode:

- a non-finite float is the string ``"NaN"``, ``"Infinity"`` or
  ``"-Infinity"`` (JavaScript's ``Number(...)`` reads these back too);
- a text value that is exactly one of those three strings is sent as
  ``{"$text": "NaN"}``, so that it is never mistaken for a float;
- integers of any size are JSON integers, exact for Python clients.

Values stored as JSON text (config, summary, media descriptions) may hold the
``NaN``/``Infinity`` literals that Python's json module writes and reads; they
are decoded with it and re-encoded with the rules above.
"""

from __future__ import annotations

import json
import math
from typing import Any

NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def encode(value: Any) -> Any:
    """A JSON-safe form of `value`, recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        if math.isnan(value):
            return "NaN"
        return "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, str):
        return {"$text": value} if value in NONFINITE else value
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    return value


def load(text: str) -> Any:
    """A stored JSON text as a Python value (NaN literals allowed)."""
    return json.loads(text) if text else None
