"""``lodestar import mlflow [DIR]``: an MLflow tracking folder as runs.

Reads MLflow's file store (``mlruns/``) directly, without MLflow:

    DIR/<experiment id>/meta.yaml            name: <experiment name>
    DIR/<experiment id>/<run id>/meta.yaml   run_name, status, lifecycle_stage
    .../<run id>/params/<key>                the value, as text
    .../<run id>/metrics/<key>               lines "<ms timestamp> <value> <step>"
    .../<run id>/tags/<key>                  the value, as text

Keys may hold ``/`` (nested files). Each run becomes a Lodestar run in the
project named after its experiment (unless ``--project`` is given): params as
config, metrics as history at their steps (the latest value of a key at a
step wins), its ``mlflow.note.content`` tag as notes, other tags that do not
start with ``mlflow.`` as ``key=value`` tags, and status FAILED or KILLED as
a failed run. Deleted experiments and runs are skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import UsageError
from .target import ImportedRun, parse_value

logger = logging.getLogger(__name__)

_FAILED_STATUSES = {"4", "5", "FAILED", "KILLED"}


@dataclass(frozen=True)
class MlflowRun:
    experiment: str
    run: ImportedRun


def read_store(root: Path) -> Iterator[MlflowRun]:
    """Every live run of every live experiment under `root`.

    Raises:
        UsageError: `root` is not an MLflow file store.
    """
    experiments = sorted(p.parent for p in root.glob("*/meta.yaml"))
    if not experiments:
        raise UsageError(f"{root} is not an MLflow tracking folder (no "
                         "<experiment id>/meta.yaml); pass the mlruns folder")
    for folder in experiments:
        meta = _meta(folder / "meta.yaml")
        if meta.get("lifecycle_stage") == "deleted":
            continue
        name = str(meta.get("name") or folder.name)
        for run_dir in sorted(p.parent for p in folder.glob("*/meta.yaml")):
            run_meta = _meta(run_dir / "meta.yaml")
            if run_meta.get("lifecycle_stage") != "deleted":
                yield MlflowRun(name, read_run(run_dir, run_meta))


def read_run(run_dir: Path, meta: dict[str, Any]) -> ImportedRun:
    """One MLflow run folder as an `ImportedRun`."""
    tags = _texts(run_dir / "tags")
    name = meta.get("run_name") or tags.get("mlflow.runName") or run_dir.name
    run = ImportedRun(name=str(name))
    run.config = {k: parse_value(v) for k, v in _texts(run_dir / "params").items()}
    run.notes = tags.get("mlflow.note.content", "")
    run.tags = [f"{k}={v}" if v else k for k, v in sorted(tags.items())
                if not k.startswith("mlflow.")]
    run.failed = str(meta.get("status", "")) in _FAILED_STATUSES
    for key, path in _files(run_dir / "metrics"):
        _add_metric(run, key, path)
    return run


def _add_metric(run: ImportedRun, key: str, path: Path) -> None:
    points = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        step = int(parts[2]) if len(parts) > 2 else 0
        points.append((step, int(parts[0]), float(parts[1])))
    for step, _, value in sorted(points):  # by step, then time: latest wins
        run.add(step, key, value)


def _meta(path: Path) -> dict[str, Any]:
    import yaml

    try:
        loaded = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from exc
    return loaded if isinstance(loaded, dict) else {}


def _texts(folder: Path) -> dict[str, str]:
    return {key: path.read_text().strip() for key, path in _files(folder)}


def _files(folder: Path) -> list[tuple[str, Path]]:
    if not folder.is_dir():
        return []
    return sorted((p.relative_to(folder).as_posix(), p)
                  for p in folder.rglob("*") if p.is_file())
