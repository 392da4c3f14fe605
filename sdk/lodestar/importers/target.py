"""Where imported runs go: one `ImportedRun` becomes one Lodestar run.

Importers build `ImportedRun` values from what they read and hand them to
`write_run`, which logs them through the public SDK like any script would.
Console capture, system metrics and code capture are off for imports: they
would describe the importing process, not the imported run. History keeps
the imported steps; its ``_timestamp`` is the time of the import.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import lodestar

IMPORT_SETTINGS = {
    "console": "off",
    "system_metrics": False,
    "disable_code": True,
    "disable_git": True,
}


@dataclass
class ImportedRun:
    """One run as read from another tool or file."""

    name: str
    config: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    history: dict[int, dict[str, Any]] = field(default_factory=dict)
    images: dict[int, dict[str, bytes]] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    notes: str = ""
    group: str = ""
    failed: bool = False

    def add(self, step: int, key: str, value: Any) -> None:
        self.history.setdefault(step, {})[key] = value

    def add_image(self, step: int, key: str, encoded: bytes) -> None:
        self.images.setdefault(step, {})[key] = encoded


def write_run(imported: ImportedRun, project: str, entity: str | None) -> str:
    """Log `imported` as a new run of `project`; returns the run's id."""
    run = lodestar.init(
        project=project,
        entity=entity,
        name=imported.name or None,
        config=imported.config,
        tags=imported.tags,
        notes=imported.notes or None,
        group=imported.group or None,
        settings=IMPORT_SETTINGS,
        reinit=True,
    )
    for step in sorted(set(imported.history) | set(imported.images)):
        row = dict(imported.history.get(step, {}))
        row.update(_images(imported.images.get(step, {})))
        run.log(row, step=step)
    for key, value in imported.summary.items():
        run.summary[key] = value
    run.finish(exit_code=1 if imported.failed else 0, quiet=True)
    return run.id


def _images(encoded: dict[str, bytes]) -> dict[str, Any]:
    if not encoded:
        return {}
    from PIL import Image as PILImage  # only for runs with images

    found = {}
    for key, data in encoded.items():
        with PILImage.open(io.BytesIO(data)) as opened:
            opened.load()
            found[key] = lodestar.Image(opened.copy())
    return found


def write_all(
    runs: Iterable[ImportedRun], project: str, entity: str | None
) -> list[tuple[str, str]]:
    """(name, run id) of every run written."""
    return [(run.name, write_run(run, project, entity)) for run in runs]


def parse_value(text: str) -> Any:
    """A cell or a parameter as the value it spells: number, bool, JSON, text."""
    stripped = text.strip()
    lowered = stripped.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(stripped)
        except ValueError:
            continue
    if stripped[:1] in ("[", "{"):
        import json

        try:
            return json.loads(stripped)
        except ValueError:
            return text
    return text
