"""The agent: the process that sends a run's WAL to ingest.

The training process only appends to its write-ahead log. The agent
(``python -m lodestar.agent RUN_DIR --parent-pid PID``, one per run) tails
that file, streams it to ingest over gRPC, replays whatever was not
acknowledged after a reconnect, reports through ``agent.json``, and tells
ingest when the training process died without ``finish()``.
``lodestar sync`` runs the same `Sender` in-process for offline or half-sent
run directories.

Errors are those of `lodestar.errors`: `AuthError` for a refused key or
entity, `RunError` for the resume rules, `CommError` when the platform cannot
be reached.
"""

from .sender import Outcome, Sender, SenderOptions

__all__ = ["Outcome", "Sender", "SenderOptions"]
