"""``agent.json``: what the agent tells the training process, through a file.

The training process holds no sockets, so the agent reports through this file
in the run directory, replaced atomically (write, then rename): the resume
answer from ingest, the highest acknowledged sequence, a fatal error, and
whether it has finished.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

FILENAME = "agent.json"


@dataclass
class AgentStatus:
    wal_id: str = ""
    acked_seq: int = 0
    opened: dict[str, Any] | None = None   # ingest's Opened, as JSON
    error: dict[str, str] | None = None    # {"code", "message"}: gave up
    done: bool = False                     # every event is acknowledged
    pid: int = 0
    warnings: list[str] = field(default_factory=list)

    def write(self, run_dir: Path) -> None:
        tmp = run_dir / (FILENAME + f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(asdict(self)))
        os.replace(tmp, run_dir / FILENAME)


def read_status(run_dir: Path) -> AgentStatus:
    """The agent's last report, or an empty one before its first."""
    try:
        raw = json.loads((run_dir / FILENAME).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return AgentStatus()
    known = {k: v for k, v in raw.items() if k in AgentStatus.__dataclass_fields__}
    return AgentStatus(**known)
