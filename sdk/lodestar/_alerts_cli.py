"""``lodestar alerts ...``: channels, rules, switches, test messages, the log.

    lodestar alerts channel add slack --url URL [--project P]
    lodestar alerts channel add email --to ADDR --smtp-host H [--smtp-port N]
                                      [--smtp-user U] [--project P]
    lodestar alerts channel list | remove ID
    lodestar alerts rule add --project P --metric val/loss --above 2 --steps 3
    lodestar alerts rule add --project P --stalled-minutes 20
    lodestar alerts rule list | remove ID
    lodestar alerts switch KIND on|off [--project P]
    lodestar alerts test CHANNEL
    lodestar alerts log [--project P] [--run R]

The alerts service's URL comes from the platform's discovery answer; the key
and base URL are the SDK's settings (``lodestar login``).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import time
from typing import Any

from .api._http import Transport
from .errors import ApiError, UsageError
from .settings import load_settings

TIMEOUT_S = 30.0
KINDS_HELP = ("comma-separated kinds: user, finished, failed, killed, preempted, "
              "crashed, nan, threshold, stalled (default: all)")


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register ``lodestar alerts`` on the ``lodestar`` command's subparsers."""
    alerts = commands.add_parser("alerts", help="alert channels, rules and log")
    verbs = alerts.add_subparsers(metavar="WHAT")
    _add_channel(verbs)
    _add_rule(verbs)
    switch = verbs.add_parser("switch", help="turn a server-side alert kind on/off")
    switch.add_argument("kind")
    switch.add_argument("state", choices=("on", "off"))
    switch.add_argument("--project", help="for everyone on this project "
                        "(default: for you, everywhere)")
    switch.add_argument("--entity")
    switch.set_defaults(func=_switch)
    test = verbs.add_parser("test", help="send a test message through a channel")
    test.add_argument("channel", help="the channel id (see `channel list`)")
    test.set_defaults(func=_test)
    log = verbs.add_parser("log", help="alerts raised and every delivery attempt")
    log.add_argument("--project")
    log.add_argument("--run", dest="run_id")
    log.add_argument("--entity")
    log.add_argument("--limit", type=int, default=50)
    log.add_argument("--json", action="store_true", help="print the raw JSON")
    log.set_defaults(func=_log)
    alerts.set_defaults(func=lambda args: _usage(alerts))


def _add_channel(verbs: argparse._SubParsersAction) -> None:
    channel = verbs.add_parser("channel", help="where alerts are sent")
    actions = channel.add_subparsers(metavar="ACTION")
    add = actions.add_parser("add", help="add a Slack or email channel")
    types = add.add_subparsers(metavar="TYPE")
    slack = types.add_parser("slack", help="a Slack incoming webhook")
    slack.add_argument("--url", required=True, help="the webhook URL (a secret)")
    _subscription_options(slack)
    slack.set_defaults(func=_add_slack)
    email = types.add_parser("email", help="email through an SMTP server")
    email.add_argument("--to", required=True, help="addresses, comma-separated")
    email.add_argument("--smtp-host", required=True)
    email.add_argument("--smtp-port", type=int)
    email.add_argument("--smtp-user", default="")
    email.add_argument("--smtp-password-env", default="LODESTAR_SMTP_PASSWORD",
                       help="variable holding the password (asked for when "
                       "unset and a terminal is attached)")
    email.add_argument("--security", choices=("starttls", "tls", "none"),
                       default="starttls")
    email.add_argument("--sender", default="", help="the From address")
    _subscription_options(email)
    email.set_defaults(func=_add_email)
    listing = actions.add_parser("list", help="your channels and your teams'")
    listing.set_defaults(func=_list_channels)
    remove = actions.add_parser("remove", help="remove a channel")
    remove.add_argument("channel")
    remove.set_defaults(func=lambda a: _print(_call(
        "DELETE", f"/api/v1/alerts/channels/{a.channel}")))
    channel.set_defaults(func=lambda args: _usage(channel))


def _subscription_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--name", default="")
    parser.add_argument("--entity", default="",
                        help="a team that owns the channel (default: you)")
    parser.add_argument("--project", help="alerts of this project only "
                        "(default: every project of the entity)")
    parser.add_argument("--kinds", default="", help=KINDS_HELP)
    parser.add_argument("--min-level", choices=("info", "warn", "error"),
                        default="info")
    parser.add_argument("--no-subscribe", action="store_true",
                        help="add the channel without subscribing it to anything")


def _add_rule(verbs: argparse._SubParsersAction) -> None:
    rule = verbs.add_parser("rule", help="threshold and stall rules")
    actions = rule.add_subparsers(metavar="ACTION")
    add = actions.add_parser("add", help="watch a metric, or watch for stalls")
    add.add_argument("--project", required=True)
    add.add_argument("--entity")
    add.add_argument("--metric", help="the metric, e.g. val/loss")
    bound = add.add_mutually_exclusive_group()
    bound.add_argument("--above", type=float)
    bound.add_argument("--below", type=float)
    add.add_argument("--steps", type=int, default=1,
                     help="consecutive logged steps (default 1)")
    add.add_argument("--stalled-minutes", type=float,
                     help="alert when a run logs no new step for this long")
    add.add_argument("--group", default="")
    add.add_argument("--tag", default="")
    add.add_argument("--level", choices=("info", "warn", "error"), default="warn")
    add.set_defaults(func=_rule_add)
    listing = actions.add_parser("list")
    listing.add_argument("--project")
    listing.set_defaults(func=_rule_list)
    remove = actions.add_parser("remove")
    remove.add_argument("rule")
    remove.set_defaults(func=lambda a: _print(_call(
        "DELETE", f"/api/v1/alerts/rules/{a.rule}")))
    rule.set_defaults(func=lambda args: _usage(rule))


# ---- the calls --------------------------------------------------------------------


def _client() -> Transport:
    settings = load_settings()
    base = Transport(settings.base_url, settings.api_key, TIMEOUT_S)
    try:
        found = base.get("/api/v1/discovery")
    except ApiError as exc:
        raise UsageError(str(exc)) from None
    url = found.get("alerts") if isinstance(found, dict) else None
    return Transport(url or settings.base_url, settings.api_key, TIMEOUT_S)


def _call(method: str, path: str, body: Any = None) -> Any:
    client = _client()
    try:
        if method == "GET":
            return client.get(path, body)
        if method == "DELETE":
            return client.delete(path)
        return client.post(path, body or {})
    except ApiError as exc:
        raise UsageError(str(exc)) from None


def _subscription(args: argparse.Namespace) -> dict[str, Any] | None:
    if args.no_subscribe:
        return None
    return {"project": args.project or "", "entity": args.entity or "",
            "kinds": args.kinds, "min_level": args.min_level}


def _add_slack(args: argparse.Namespace) -> int:
    body = {"type": "slack", "url": args.url, "name": args.name,
            "entity": args.entity, "subscribe": _subscription(args)}
    return _added(_call("POST", "/api/v1/alerts/channels", body))


def _add_email(args: argparse.Namespace) -> int:
    body = {"type": "email", "to": args.to, "smtp_host": args.smtp_host,
            "smtp_port": args.smtp_port, "smtp_user": args.smtp_user,
            "smtp_password": _password(args), "security": args.security,
            "sender": args.sender, "name": args.name, "entity": args.entity,
            "subscribe": _subscription(args)}
    return _added(_call("POST", "/api/v1/alerts/channels", body))


def _password(args: argparse.Namespace) -> str:
    if not args.smtp_user:
        return ""
    value = os.environ.get(args.smtp_password_env)
    if value is not None:
        return value
    if sys.stdin.isatty():
        return getpass.getpass(f"SMTP password of {args.smtp_user}: ")
    raise UsageError(f"set {args.smtp_password_env} to the SMTP password of "
                     f"{args.smtp_user} (it is not taken on the command line)")


def _added(channel: dict[str, Any]) -> int:
    sub = channel.get("subscription")
    scope = "nothing yet"
    if sub:
        scope = f"{sub['entity']}/{sub['project'] or '*'}"
    print(f"added {channel['type']} channel {channel['id']} ({channel['name']}); "
          f"subscribed to {scope}")
    return 0


def _list_channels(args: argparse.Namespace) -> int:
    channels = _call("GET", "/api/v1/alerts/channels")["channels"]
    if not channels:
        print("no channels; add one with `lodestar alerts channel add slack ...`")
    for channel in channels:
        owner = channel["owner"]["user"] or channel["owner"]["entity"]
        target = channel["secret"] if channel["type"] == "slack" else ", ".join(
            channel["settings"].get("to", []))
        print(f"{channel['id']}  {channel['type']:<5}  {channel['name']:<20}  "
              f"{owner:<12}  {target}")
    return 0


def _rule_add(args: argparse.Namespace) -> int:
    body: dict[str, Any] = {"project": args.project, "entity": args.entity,
                            "group": args.group, "tag": args.tag,
                            "level": args.level}
    if args.stalled_minutes is not None:
        body.update(kind="stall", stall_s=args.stalled_minutes * 60.0)
    else:
        if not args.metric or (args.above is None and args.below is None):
            raise UsageError("give --metric with --above or --below, or "
                             "--stalled-minutes")
        op = "above" if args.above is not None else "below"
        body.update(kind="threshold", metric=args.metric, op=op,
                    value=args.above if op == "above" else args.below,
                    steps=args.steps)
    rule = _call("POST", "/api/v1/alerts/rules", body)
    print(f"added rule {rule['id']}: {rule['description']}")
    return 0


def _rule_list(args: argparse.Namespace) -> int:
    for rule in _call("GET", "/api/v1/alerts/rules", {"project": args.project}
                      )["rules"]:
        scope = f"{rule['entity']}/{rule['project']}"
        print(f"{rule['id']}  {scope:<24}  {rule['description']}")
    return 0


def _switch(args: argparse.Namespace) -> int:
    body = {"kind": args.kind, "enabled": args.state == "on",
            "project": args.project, "entity": args.entity}
    answer = _call("POST", "/api/v1/alerts/switches", body)
    off = ", ".join(answer["disabled"]) or "nothing"
    print(f"switched off now: {off}")
    return 0


def _test(args: argparse.Namespace) -> int:
    answer = _call("POST", f"/api/v1/alerts/channels/{args.channel}/test")
    if answer["status"] == "sent":
        print(f"test message sent through {args.channel}")
        return 0
    print(f"test message through {args.channel} failed: {answer['error']}",
          file=sys.stderr)
    return 1


def _log(args: argparse.Namespace) -> int:
    params = {"entity": args.entity, "project": args.project,
              "run_id": args.run_id, "limit": args.limit}
    alerts = _call("GET", "/api/v1/alerts/log", params)["alerts"]
    if args.json:
        print(json.dumps(alerts, indent=2))
        return 0
    for item in alerts:
        _print_alert(item)
    return 0


def _print_alert(item: dict[str, Any]) -> None:
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(item["fired_at"]))
    level = ("INFO", "WARN", "ERROR")[min(int(item["level"]), 2)]
    paged = "paged" if item["paged"] else f"not paged: {item['reason']}"
    print(f"{when}  {level:<5}  {item['project']}/{item['run_id']}  "
          f"{item['title']}  ({paged})")
    for attempt in item["attempts"]:
        error = f": {attempt['error']}" if attempt["error"] else ""
        print(f"    attempt {attempt['attempt']} to {attempt['channel_id']}: "
              f"{attempt['status']}{error}")


def _print(answer: Any) -> int:
    print(json.dumps(answer))
    return 0


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2
