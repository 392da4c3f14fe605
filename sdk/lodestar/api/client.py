"""`Api`: the entry point for reading projects, runs and history."""

from __future__ import annotations

from typing import Any


class Api:
    """Reads what the platform stored, over its REST API."""

    def __init__(
        self,
        overrides: dict[str, Any] | None = None,
        api_key: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        self._overrides = dict(overrides or {})
        self._api_key = api_key
        self._timeout = timeout
