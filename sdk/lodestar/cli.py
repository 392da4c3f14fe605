"""The ``lodestar`` command.

    lodestar login [--host URL] [KEY]   store an API key for a host in ~/.netrc
    lodestar sync PATH... [--clean]     upload offline or half-sent runs
    lodestar server ...                 run a local platform (lodestar-server)
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence

from ._alerts_cli import add_parser as alerts_parser
from .errors import UsageError
from .footprint import add_parser as clean_parser
from .settings import DEFAULT_BASE_URL, store_netrc_key

CHECK_TIMEOUT_S = 10.0


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``lodestar`` command; returns the exit status."""
    return quiet_on_closed_pipe(lambda: _main(argv))


def quiet_on_closed_pipe(command: Callable[[], int]) -> int:
    """Run a command whose reader may quit early (``| head``) without a traceback.

    Args:
        command: the command's body; returns the exit status.

    Returns:
        The command's status, or 1 when standard output was closed under it.
    """
    try:
        status = command()
        sys.stdout.flush()
        return status
    except BrokenPipeError:
        # Point stdout at /dev/null so the interpreter's last flush stays quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _main(argv: Sequence[str] | None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["server"]:
        return _server(args[1:])
    parser = build_parser()
    parsed = parser.parse_args(args)
    if not hasattr(parsed, "func"):
        parser.print_help()
        return 2
    try:
        return int(parsed.func(parsed) or 0)
    except UsageError as exc:
        print(f"lodestar: {exc}", file=sys.stderr)
        return 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lodestar", description="Track machine-learning experiments."
    )
    commands = parser.add_subparsers(metavar="COMMAND")
    _add_login(commands)
    _add_sync(commands)
    _add_import(commands)
    alerts_parser(commands)
    clean_parser(commands)
    commands.add_parser(
        "server", help="run a local platform (needs lodestar-server)", add_help=False
    )
    return parser


def _add_login(commands: argparse._SubParsersAction) -> None:
    login = commands.add_parser("login", help="store an API key for a host")
    login.add_argument("key", nargs="?", help="the API key (asked for when omitted)")
    login.add_argument(
        "--host", default=None,
        help=f"the platform's URL (default: LODESTAR_BASE_URL or {DEFAULT_BASE_URL})",
    )
    login.add_argument(
        "--no-verify", action="store_true",
        help="store the key even when the platform cannot be reached to check it",
    )
    login.set_defaults(func=_login)


def _add_sync(commands: argparse._SubParsersAction) -> None:
    try:
        from .agent.sync import add_parser
    except ImportError:  # an SDK built without its agent cannot sync
        return
    add_parser(commands)


def _add_import(commands: argparse._SubParsersAction) -> None:
    from .importers import add_parser

    add_parser(commands)


def _server(argv: list[str]) -> int:
    try:
        from lodestar_server.launcher.cli import main as server_main
    except ImportError:
        print(
            "lodestar server needs the platform: pip install lodestar-server",
            file=sys.stderr,
        )
        return 1
    return server_main(argv)


def _login(args: argparse.Namespace) -> int:
    host = args.host or os.environ.get("LODESTAR_BASE_URL") or DEFAULT_BASE_URL
    key = args.key or _ask_key(host)
    user = _check_key(host, key, args.no_verify)
    path = store_netrc_key(host, key)
    who = f" as {user}" if user else ""
    print(f"logged in to {host}{who}; the key is stored in {path}")
    return 0


def _ask_key(host: str) -> str:
    if not sys.stdin.isatty():
        raise UsageError("give the API key as an argument: lodestar login KEY")
    key = getpass.getpass(f"API key for {host}: ").strip()
    if not key:
        raise UsageError("no API key given")
    return key


def _check_key(host: str, key: str, no_verify: bool) -> str | None:
    """The key's user as the platform knows it; None when unchecked.

    Raises:
        UsageError: The platform refused the key, or could not be reached
            to check it and `no_verify` is off.
    """
    request = urllib.request.Request(
        host.rstrip("/") + "/api/v1/viewer",
        headers={"Authorization": f"Bearer {key}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=CHECK_TIMEOUT_S) as reply:
            viewer = json.loads(reply.read() or b"{}")
    except urllib.error.HTTPError as exc:
        if exc.code in (401, 403):
            raise UsageError(f"{host} refused this API key (HTTP {exc.code})") from exc
        return None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        if not no_verify:
            raise UsageError(
                f"could not reach {host} to check the key ({exc}); nothing was "
                "stored. Start the platform, fix --host, or pass --no-verify"
            ) from exc
        print(f"could not reach {host}; storing the key unchecked", file=sys.stderr)
        return None
    return viewer.get("user") if isinstance(viewer, dict) else None


if __name__ == "__main__":
    sys.exit(main())
