"""Small public helpers: ``lodestar.util.generate_id``."""

from __future__ import annotations

import secrets
import string

_ID_ALPHABET = string.ascii_lowercase + string.digits


def generate_id(length: int = 8) -> str:
    """A random run id of `length` characters from ``[a-z0-9]``."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))
