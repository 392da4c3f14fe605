"""Versioned schema migrations: numbered SQL files, applied once, in order.

`migrations/NNNN_name.sql` holds statements separated by ``;`` at the end of
a line. Each applied file is recorded in `schema_migrations`, so starting a
service twice, or two versions in a row, changes the schema only once.
"""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path

from .storage import Storage, StorageError

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")

_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version UInt32,
    name String,
    applied_at Float64
) ENGINE = MergeTree ORDER BY version
"""


def available(directory: Path = MIGRATIONS_DIR) -> list[tuple[int, Path]]:
    """The migration files, by version."""
    found = []
    for path in directory.iterdir():
        match = _NAME.match(path.name)
        if match:
            found.append((int(match.group(1)), path))
        elif path.suffix == ".sql":
            raise StorageError(f"migration {path.name} is not named NNNN_name.sql")
    return sorted(found)


def statements(text: str) -> list[str]:
    """Split a migration file into statements, without comment lines."""
    lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith("--")]
    chunks = re.split(r";\s*$", "\n".join(lines), flags=re.MULTILINE)
    return [chunk.strip() for chunk in chunks if chunk.strip()]


def migrate(storage: Storage, directory: Path = MIGRATIONS_DIR) -> list[int]:
    """Apply the migrations not applied yet; returns their versions."""
    storage.command(_LEDGER)
    done = {row["version"] for row in storage.query(
        "SELECT version FROM schema_migrations"
    )}
    applied = []
    for version, path in available(directory):
        if version in done:
            continue
        for statement in statements(path.read_text()):
            storage.command(statement)
        storage.insert(
            "schema_migrations",
            {"version": [version], "name": [path.name], "applied_at": [time.time()]},
        )
        logger.info("applied migration %s", path.name)
        applied.append(version)
    return applied
