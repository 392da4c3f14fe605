"""How a training process gets bytes without opening a socket.

A training process holds no sockets (see the architecture notes), so the
network operations of artifacts and run files called from it run in a
short-lived helper process: ``python -m lodestar.artifacts.courier`` reads
one JSON request on stdin (operation, arguments, platform and key), runs the
operation from `operations`, and writes one JSON answer on stdout. The caller
waits for it with a deadline. Outside a training process the operation runs
in-process.

Errors travel back as ``{"error": {"type", "status", "message"}}`` and are
raised again as the same `lodestar.errors` type.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from ..errors import ApiError, BadPath, CommError, LodestarError, UsageError
from .operations import OPERATIONS, Platform

DEFAULT_TIMEOUT_S = 3600.0
_PATH_ARGUMENTS = ("root", "path")
_PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])
_ERRORS: dict[str, type[LodestarError]] = {
    "UsageError": UsageError, "BadPath": UsageError, "CommError": CommError,
    "ChunkFailed": CommError, "AuthError": CommError,
}


def in_training_process() -> bool:
    """Whether this process runs an active (not disabled) run."""
    from .. import _state

    run = _state._active()
    return run is not None and not run.disabled


def perform(
    platform: Platform, op: str, timeout: float = DEFAULT_TIMEOUT_S, **kwargs: Any
) -> Any:
    """Run operation `op`, in a helper process when this is a training process.

    Raises:
        ApiError, CommError, UsageError: as the operation raised them.
    """
    if op not in OPERATIONS:
        raise UsageError(f"unknown operation {op!r}")
    if not in_training_process():
        return OPERATIONS[op](platform, **kwargs)
    return _through_helper(platform, op, timeout, kwargs)


def _through_helper(
    platform: Platform, op: str, timeout: float, kwargs: dict[str, Any]
) -> Any:
    # paths are made absolute: the helper runs beside the installed package,
    # away from a ./lodestar/ run folder that would shadow it
    for name in _PATH_ARGUMENTS:
        if isinstance(kwargs.get(name), str):
            kwargs[name] = os.path.abspath(kwargs[name])
    request = json.dumps({"op": op, "kwargs": kwargs, "platform": platform.to_dict()})
    try:
        done = subprocess.run(
            [sys.executable, "-m", "lodestar.artifacts.courier"], input=request,
            capture_output=True, text=True, timeout=timeout, check=False,
            cwd=_PACKAGE_PARENT,
        )
    except subprocess.TimeoutExpired as exc:
        raise CommError(f"{op} did not finish within {timeout:.0f} s") from exc
    try:
        answer = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError) as exc:
        raise CommError(f"the transfer helper failed: {done.stderr[-500:]}") from exc
    if "error" in answer:
        raise _error(answer["error"])
    return answer["result"]


def _error(body: dict[str, Any]) -> LodestarError:
    if body.get("type") == "ApiError":
        return ApiError(int(body.get("status", 0)), body.get("message", ""))
    return _ERRORS.get(body.get("type", ""), CommError)(body.get("message", ""))


def main() -> int:
    """The helper: one request on stdin, one answer on stdout."""
    request = json.loads(sys.stdin.read())
    platform = Platform(**request["platform"])
    try:
        result = OPERATIONS[request["op"]](platform, **request["kwargs"])
        answer: dict[str, Any] = {"result": result}
    except ApiError as exc:
        answer = {"error": {"type": "ApiError", "status": exc.status,
                            "message": str(exc)}}
    except (BadPath, LodestarError, OSError) as exc:
        answer = {"error": {"type": type(exc).__name__, "message": str(exc)}}
    sys.stdout.write(json.dumps(answer) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
