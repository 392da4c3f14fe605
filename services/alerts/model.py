"""Levels, kinds, and the records users configure: channels, subscriptions,
rules and switches. Each is a frozen dataclass stored as JSON; `parse_*`
functions check what the REST API receives and raise `InvalidRequest`.
"""

from __future__ import annotations

import math
import re
import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from .errors import InvalidRequest

LEVELS = ("info", "warn", "error")  # index = lodestar.v1.AlertLevel
STATE_KINDS = ("finished", "failed", "killed", "preempted", "crashed")
KINDS = ("user", *STATE_KINDS, "nan", "threshold", "stalled")
CHANNEL_TYPES = ("slack", "email")
SMTP_SECURITY = ("starttls", "tls", "none")
RULE_KINDS = ("threshold", "stall")
_EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+$")
_HOST = re.compile(r"^[A-Za-z0-9.\-:\[\]]{1,253}$")


def level_index(name: str) -> int:
    """The number of level `name` (info 0, warn 1, error 2)."""
    try:
        return LEVELS.index(name)
    except ValueError:
        raise InvalidRequest("level", f"{name!r} is not one of {LEVELS}") from None


def new_id(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(6)}"


@dataclass(frozen=True)
class Owner:
    """Who a channel belongs to: a user, or an entity (a team) and its members."""

    user: str = ""
    entity: str = ""

    @property
    def label(self) -> str:
        return f"user {self.user}" if self.user else f"entity {self.entity}"


@dataclass(frozen=True)
class Channel:
    """Where alerts go. `secret` is sealed (webhook URL, SMTP password)."""

    id: str
    type: str
    name: str
    owner: Owner
    settings: dict[str, Any] = field(default_factory=dict)
    secret: str = ""
    created_by: str = ""
    created_at: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Channel:
        return cls(**{**data, "owner": Owner(**data["owner"])})


@dataclass(frozen=True)
class Subscription:
    """A channel's share of the alerts of one project, or of a whole entity."""

    id: str
    channel_id: str
    entity: str
    project: str = ""               # "": every project of the entity
    kinds: tuple[str, ...] = ()     # (): every kind
    min_level: str = "info"
    created_by: str = ""

    def matches(self, entity: str, project: str, kind: str, level: int) -> bool:
        return (
            entity == self.entity
            and self.project in ("", project)
            and (not self.kinds or kind in self.kinds)
            and level >= LEVELS.index(self.min_level)
        )

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "kinds": list(self.kinds)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Subscription:
        return cls(**{**data, "kinds": tuple(data.get("kinds", ()))})


@dataclass(frozen=True)
class Rule:
    """A user rule on a project's runs, optionally narrowed to a group or tag.

    ``threshold``: `metric` above (or below) `value` for `steps` consecutive
    logged steps. ``stall``: no new step for `stall_s` seconds.
    """

    id: str
    kind: str
    entity: str
    project: str
    metric: str = ""
    op: str = "above"
    value: float = 0.0
    steps: int = 1
    stall_s: float = 0.0
    group: str = ""
    tag: str = ""
    level: str = "warn"
    created_by: str = ""

    def covers(self, entity: str, project: str, group: str, tags: list[str]) -> bool:
        return (
            entity == self.entity and project == self.project
            and self.group in ("", group) and (not self.tag or self.tag in tags)
        )

    def breached(self, value: float) -> bool:
        if math.isnan(value):
            return False
        return value > self.value if self.op == "above" else value < self.value

    def describe(self) -> str:
        if self.kind == "stall":
            return f"no new step for {self.stall_s:g} s"
        return f"{self.metric} {self.op} {self.value:g} for {self.steps} steps"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Rule:
        return cls(**data)


@dataclass(frozen=True)
class Switch:
    """Server-side alert kinds switched off for a user or for a project."""

    user: str = ""
    entity: str = ""
    project: str = ""
    disabled: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "disabled": list(self.disabled)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Switch:
        return cls(**{**data, "disabled": tuple(data.get("disabled", ()))})


# ---- parsing what the API receives -------------------------------------------


def parse_kinds(value: Any) -> tuple[str, ...]:
    if value in (None, "", []):
        return ()
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise InvalidRequest("kinds", "give a list of alert kinds")
    kinds = tuple(str(item).strip() for item in items if str(item).strip())
    unknown = [kind for kind in kinds if kind not in KINDS]
    if unknown:
        raise InvalidRequest("kinds", f"unknown {unknown}; known kinds are {KINDS}")
    return kinds


def parse_slack(body: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """Settings and secret of a Slack channel: the webhook URL is the secret."""
    url = str(body.get("url") or "")
    if not url.startswith(("https://", "http://")):
        raise InvalidRequest(
            "url", "give the Slack incoming-webhook URL (https://hooks.slack.com/...)"
        )
    return {}, url


def parse_email(body: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """Settings and secret of an email channel: the SMTP password is the secret."""
    to = [a.strip() for a in str(body.get("to") or "").split(",") if a.strip()]
    if not to or not all(_EMAIL.match(address) for address in to):
        raise InvalidRequest("to", f"{body.get('to')!r} is not a list of addresses")
    host = str(body.get("smtp_host") or "")
    if not _HOST.match(host):
        raise InvalidRequest("smtp_host", f"{host!r} is not a host name")
    security = str(body.get("security") or "starttls")
    if security not in SMTP_SECURITY:
        raise InvalidRequest("security", f"{security!r} is not one of {SMTP_SECURITY}")
    default_port = 465 if security == "tls" else 587
    port = _int_in(body.get("smtp_port") or default_port, "smtp_port", 1, 65535)
    settings = {
        "to": to, "smtp_host": host, "smtp_port": port, "security": security,
        "smtp_user": str(body.get("smtp_user") or ""),
        "sender": str(body.get("sender") or ""),
    }
    return settings, str(body.get("smtp_password") or "")


def parse_rule(body: dict[str, Any], entity: str, user: str) -> Rule:
    """A rule from the API's JSON body."""
    kind = str(body.get("kind") or "threshold")
    if kind not in RULE_KINDS:
        raise InvalidRequest("kind", f"{kind!r} is not one of {RULE_KINDS}")
    project = str(body.get("project") or "")
    if not project:
        raise InvalidRequest("project", "a rule watches one project; name it")
    level = str(body.get("level") or "warn")
    level_index(level)
    common: dict[str, Any] = dict(
        id=new_id("r"), kind=kind, entity=entity, project=project, level=level,
        group=str(body.get("group") or ""), tag=str(body.get("tag") or ""),
        created_by=user,
    )
    if kind == "stall":
        stall_s = _float_in(body.get("stall_s"), "stall_s", 0.001, 30 * 86400.0)
        return Rule(**common, stall_s=stall_s)
    return Rule(**common, **_threshold(body))


def _threshold(body: dict[str, Any]) -> dict[str, Any]:
    metric = str(body.get("metric") or "")
    if not metric:
        raise InvalidRequest("metric", "name the metric to watch, e.g. val/loss")
    op = str(body.get("op") or "above")
    if op not in ("above", "below"):
        raise InvalidRequest("op", f"{op!r} is neither 'above' nor 'below'")
    value = _float_in(body.get("value"), "value", -math.inf, math.inf)
    steps = _int_in(body.get("steps") or 1, "steps", 1, 1_000_000)
    return {"metric": metric, "op": op, "value": value, "steps": steps}


def _float_in(value: Any, name: str, low: float, high: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidRequest(name, f"{value!r} is not a number") from None
    if not (low <= number <= high) or math.isnan(number):
        raise InvalidRequest(name, f"{number:g} is outside {low:g}..{high:g}")
    return number


def _int_in(value: Any, name: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidRequest(name, f"{value!r} is not a whole number") from None
    if not low <= number <= high:
        raise InvalidRequest(name, f"{number} is outside {low}..{high}")
    return number


def now() -> float:
    return time.time()
