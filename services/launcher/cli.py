"""``lodestar server``: run the local platform and manage its accounts.

    lodestar server start [--port 8080] [--data-dir DIR] [--detach]
    lodestar server stop | status | logs [NAME] [-f]
    lodestar server user add NAME [--admin]
    lodestar server team add NAME --member USER [USER ...]
    lodestar server key create --user NAME
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from lodestar.cli import quiet_on_closed_pipe
from lodestar.settings import netrc_key

from ..common.config import ConfigError, PlatformConfig, load_config
from .admin import AdminClient
from .children import NAMES
from .control import read_status, start_detached, stop
from .datadir import DataDir, default_data_dir, running_pid
from .errors import LauncherError
from .process import DEFAULT_GRACE_S
from .supervisor import configure_logging, run_supervisor

DEFAULT_URL = "http://127.0.0.1:8080"


def main(argv: list[str] | None = None) -> int:
    """Run one ``lodestar server`` command; returns the exit status."""
    return quiet_on_closed_pipe(lambda: _main(argv))


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (LauncherError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def build_parser(prog: str = "lodestar server") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(metavar="COMMAND")
    _add_start(commands)
    _add_simple(commands, "stop", "stop the platform and every child", _stop)
    status = _add_simple(commands, "status", "each child's pid, port and health",
                         _status)
    status.add_argument("--url", action="store_true",
                        help="print only the running platform's URL")
    logs = _add_simple(commands, "logs", "print a child's log", _logs)
    logs.add_argument("name", nargs="?", default="supervisor",
                      choices=("supervisor", *NAMES))
    logs.add_argument("-f", "--follow", action="store_true")
    logs.add_argument("-n", "--lines", type=int, default=100)
    _add_accounts(commands)
    return parser


def _data_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir", type=Path, default=default_data_dir(),
        help="where every store keeps its data (default: %(default)s)",
    )


def _add_simple(
    commands: argparse._SubParsersAction, name: str, help_text: str,
    func: Callable[[argparse.Namespace], int],
) -> argparse.ArgumentParser:
    parser = commands.add_parser(name, help=help_text)
    _data_dir_option(parser)
    parser.set_defaults(func=func)
    return parser


def _add_start(commands: argparse._SubParsersAction) -> None:
    start = _add_simple(commands, "start", "start the local platform", _start)
    start.add_argument("--port", type=int, default=None,
                       help="the web and API port (default: the last one, or 8080)")
    start.add_argument("--detach", action="store_true",
                       help="run in the background; return once all are healthy")
    start.add_argument("--grace", type=float, default=DEFAULT_GRACE_S,
                       help="seconds between SIGTERM and SIGKILL when stopping")


def _add_accounts(commands: argparse._SubParsersAction) -> None:
    user = commands.add_parser("user", help="manage users").add_subparsers()
    add_user = _admin_parser(user, "add", "add a user", _user_add)
    add_user.add_argument("name")
    add_user.add_argument("--admin", action="store_true")
    team = commands.add_parser("team", help="manage teams").add_subparsers()
    add_team = _admin_parser(team, "add", "add a team", _team_add)
    add_team.add_argument("name")
    add_team.add_argument("--member", nargs="+", default=[], metavar="USER")
    key = commands.add_parser("key", help="manage API keys").add_subparsers()
    create = _admin_parser(key, "create", "create an API key", _key_create)
    create.add_argument("--user", required=True)
    create.add_argument("--label", default="")


def _admin_parser(
    commands: argparse._SubParsersAction, name: str, help_text: str,
    func: Callable[[argparse.Namespace], int],
) -> argparse.ArgumentParser:
    parser = _add_simple(commands, name, help_text, func)
    parser.add_argument("--url", default=None,
                        help="the platform's URL (default: the local platform's)")
    return parser


def _start(args: argparse.Namespace) -> int:
    data_dir = args.data_dir.resolve()
    if args.detach:
        config = start_detached(data_dir, args.port, args.grace)
        _print_urls(config, DataDir(data_dir))
        return 0
    DataDir(data_dir).create()
    configure_logging(DataDir(data_dir).log("supervisor"))
    on_started = _urls_printer(DataDir(data_dir))
    run_supervisor(data_dir, args.port, args.grace, on_started=on_started)
    return 0


def _urls_printer(data: DataDir) -> Callable[[PlatformConfig], None]:
    return lambda config: _print_urls(config, data)


def _print_urls(config: PlatformConfig, data: DataDir) -> None:
    user = (data.read_json(data.bootstrap_json) or {}).get("user", "?")
    print(f"Lodestar is running. Open {config.public_url}")
    print(f"  API            {config.public_url}/api/v1 (docs at /docs)")
    print(f"  ingest (gRPC)  {config.ingest_target}")
    print(f"  artifacts      {config.artifacts_url}")
    print(f"  S3             http://{config.s3_endpoint}")
    print(f"  NATS           {config.nats_url}")
    print(f"  first user     {user} (API key in ~/.netrc)")
    print(f"  data and logs  {data.root}")
    sys.stdout.flush()


def _stop(args: argparse.Namespace) -> int:
    pid = stop(args.data_dir)
    print(f"stopped the Lodestar server (pid {pid}) on {args.data_dir.resolve()}")
    return 0


def _status(args: argparse.Namespace) -> int:
    children = read_status(args.data_dir)
    data = DataDir(args.data_dir.resolve())
    url = (data.read_json(data.status_json) or {}).get("public_url", "?")
    if args.url:
        print(url)
        return 0
    print(f"Lodestar at {url} (supervisor pid {running_pid(data)}, data {data.root})")
    print(f"{'NAME':<10} {'PID':>8} {'PORT':>6}  {'HEALTHY':<8} RESTARTS")
    for child in children:
        pid = str(child.pid) if child.pid else "-"
        healthy = "yes" if child.healthy else "no"
        print(f"{child.name:<10} {pid:>8} {child.port:>6}  {healthy:<8} "
              f"{child.restarts}")
    return 0 if all(child.healthy for child in children) else 1


def _logs(args: argparse.Namespace) -> int:
    path = DataDir(args.data_dir.resolve()).log(args.name)
    if not path.exists():
        raise LauncherError(f"no log yet at {path}")
    with open(path, errors="replace") as log:
        for line in log.readlines()[-args.lines:]:
            sys.stdout.write(line)
        while args.follow:
            line = log.readline()
            if line:
                sys.stdout.write(line)
                sys.stdout.flush()
            else:
                time.sleep(0.25)
    return 0


def _admin(args: argparse.Namespace) -> AdminClient:
    url = args.url or os.environ.get("LODESTAR_BASE_URL") or _local_url(args)
    key = os.environ.get("LODESTAR_API_KEY") or netrc_key(url)
    if not key:
        raise LauncherError(
            f"no API key for {url}; run `lodestar login --host {url}` "
            "or set LODESTAR_API_KEY to an admin user's key"
        )
    return AdminClient(url, key)


def _local_url(args: argparse.Namespace) -> str:
    path = DataDir(args.data_dir.resolve()).platform_json
    return load_config(path).public_url if path.exists() else DEFAULT_URL


def _user_add(args: argparse.Namespace) -> int:
    _admin(args).add_user(args.name, admin=args.admin)
    role = "admin" if args.admin else "user"
    print(f"added {role} {args.name}; make a key with "
          f"`lodestar server key create --user {args.name}`")
    return 0


def _team_add(args: argparse.Namespace) -> int:
    _admin(args).add_team(args.name, args.member)
    print(f"added team {args.name} with members {', '.join(args.member) or '-'}")
    return 0


def _key_create(args: argparse.Namespace) -> int:
    api_key = _admin(args).create_key(args.user, args.label)
    print(api_key)
    return 0
