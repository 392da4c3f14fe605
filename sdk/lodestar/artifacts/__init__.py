"""Artifacts: versioned, content-addressed files that runs log and use."""

from .artifact import Artifact, ArtifactEntry

__all__ = ["Artifact", "ArtifactEntry"]
