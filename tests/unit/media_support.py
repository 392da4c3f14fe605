"""A sink that keeps what media encoding stores, for the media unit tests."""

from __future__ import annotations

from typing import Any

from lodestar.media.values import table_json


class MemorySink:
    """Files and table chunks kept in memory instead of a run directory."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.chunks: list[Any] = []
        self.sent: set[str] = set()

    def stage(self, relative_path: str, data: bytes, sha256: str) -> str:
        self.files[relative_path] = data
        return relative_path

    def table(self, table: Any, key: str, step: int) -> dict[str, Any]:
        return table_json(self, table, key, step, self.sent, self.chunks.append)
