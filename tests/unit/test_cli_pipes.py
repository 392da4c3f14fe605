"""The CLI's output piped into a reader that quits early (``| head``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

LINES = 20_000


def test_logs_into_a_closed_pipe_exit_without_a_traceback(tmp_path: Path):
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "supervisor.log").write_text(
        "".join(f"line {i} {'x' * 80}\n" for i in range(LINES))
    )
    command = [sys.executable, "-c", "import sys; from lodestar.cli import main; "
               "sys.exit(main())", "server", "logs",
               "--data-dir", str(tmp_path), "-n", str(LINES)]
    writer = subprocess.Popen(command, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    assert writer.stdout is not None
    first = writer.stdout.readline()
    writer.stdout.close()
    _, errors = writer.communicate(timeout=60)

    assert first.startswith(b"line 0 ")
    assert writer.returncode == 1
    assert errors == b""
