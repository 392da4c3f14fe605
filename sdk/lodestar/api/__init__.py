"""The public query API: `lodestar.Api` reads runs and their history back."""

from __future__ import annotations

from .client import Api
from .runs import Project, Run, Runs

__all__ = ["Api", "Project", "Run", "Runs"]
