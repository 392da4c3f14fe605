"""The ``lodestar import`` command and its three sources."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import UsageError
from .target import ImportedRun, write_run


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register ``lodestar import csv|tensorboard|mlflow``."""
    parser = commands.add_parser("import", help="turn other tools' runs into runs")
    sources = parser.add_subparsers(metavar="SOURCE", required=True)
    _add_csv(sources)
    _add_tensorboard(sources)
    _add_mlflow(sources)


def _common(parser: argparse.ArgumentParser, project_required: bool) -> None:
    parser.add_argument("--project", required=project_required,
                        help="the project the runs go to")
    parser.add_argument("--entity", default=None, help="default: your own")


def _columns(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [c.strip() for c in text.split(",") if c.strip()]


def _add_csv(sources: argparse._SubParsersAction) -> None:
    parser = sources.add_parser("csv", help="one run per row of a CSV file")
    parser.add_argument("path", type=Path)
    _common(parser, project_required=True)
    parser.add_argument("--name-col", help="the column that names each run")
    parser.add_argument("--config-cols", help="comma-separated (default: every "
                        "column not named by another option)")
    parser.add_argument("--summary-cols", help="comma-separated")
    parser.add_argument("--metric-cols", help="comma-separated; list cells "
                        "become one value per step")
    parser.set_defaults(func=_import_csv)


def _add_tensorboard(sources: argparse._SubParsersAction) -> None:
    parser = sources.add_parser("tensorboard", help="TensorBoard event files")
    parser.add_argument("path", type=Path, help="a log folder")
    _common(parser, project_required=False)
    parser.set_defaults(func=_import_tensorboard)


def _add_mlflow(sources: argparse._SubParsersAction) -> None:
    parser = sources.add_parser("mlflow", help="an MLflow tracking folder")
    parser.add_argument("path", type=Path, nargs="?", default=Path("mlruns"),
                        help="the mlruns folder (default: ./mlruns)")
    _common(parser, project_required=False)
    parser.set_defaults(func=_import_mlflow)


def _import_csv(args: argparse.Namespace) -> int:
    from .csv_rows import read_csv

    runs = read_csv(args.path, args.name_col, _columns(args.config_cols),
                    _columns(args.summary_cols), _columns(args.metric_cols))
    return _status(_write(runs, args.project, args.entity), args.path)


def _import_tensorboard(args: argparse.Namespace) -> int:
    from .tensorboard import read_logdir

    path = _existing(args.path)
    project = args.project or path.resolve().name
    return _status(_write(read_logdir(path), project, args.entity), path)


def _import_mlflow(args: argparse.Namespace) -> int:
    from .mlflow_store import read_store

    path = _existing(Path(str(args.path).removeprefix("file://")))
    count = 0
    for found in read_store(path):
        count += _write([found.run], args.project or found.experiment, args.entity)
    return _status(count, path)


def _existing(path: Path) -> Path:
    if not path.is_dir():
        raise UsageError(f"{path} is not a folder")
    return path


def _write(runs, project: str, entity: str | None) -> int:
    """Write each run and say where it went; returns how many."""
    count = 0
    for run in runs:
        run_id = write_run(run, project, entity)
        _report(run, project, run_id)
        count += 1
    return count


def _report(run: ImportedRun, project: str, run_id: str) -> None:
    steps = len(set(run.history) | set(run.images))
    print(f"imported {run.name!r} as {project}/{run_id} ({steps} steps)",
          file=sys.stdout, flush=True)


def _status(count: int, path: Path) -> int:
    if count:
        return 0
    print(f"lodestar: {path} holds no run to import", file=sys.stderr)
    return 1
