"""Importers: runs of other trackers and plain files turned into Lodestar runs.

``lodestar import csv|tensorboard|mlflow ...``; see `commands.add_parser`.
"""

from .commands import add_parser

__all__ = ["add_parser"]
