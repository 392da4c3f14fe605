"""The ``lodestar`` command against a running local platform."""

from __future__ import annotations

import netrc
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(300)


def _lodestar(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lodestar.cli", *args],
        env=env, capture_output=True, text=True, timeout=120,
    )


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_admin_adds_user_team_and_key(local_platform) -> None:
    env = local_platform.env
    user, team = _name("user"), _name("team")
    url = ["--url", local_platform.base_url]

    added = _lodestar(env, "server", "user", "add", user, *url)
    assert added.returncode == 0, added.stderr
    teamed = _lodestar(env, "server", "team", "add", team, "--member", user, *url)
    assert teamed.returncode == 0, teamed.stderr
    keyed = _lodestar(env, "server", "key", "create", "--user", user, *url)
    assert keyed.returncode == 0, keyed.stderr
    assert keyed.stdout.strip().startswith("lsk_")


def test_admin_command_reports_conflict_and_unknown_user(local_platform) -> None:
    env, url = local_platform.env, ["--url", local_platform.base_url]
    user = _name("dup")
    assert _lodestar(env, "server", "user", "add", user, *url).returncode == 0

    again = _lodestar(env, "server", "user", "add", user, *url)
    unknown = _lodestar(env, "server", "key", "create", "--user", _name("no"), *url)
    assert (again.returncode, unknown.returncode) == (1, 1)
    assert "(HTTP 409)" in again.stderr
    assert "(HTTP 404)" in unknown.stderr


def test_non_admin_key_is_refused_by_admin_commands(local_platform) -> None:
    env, url = local_platform.env, ["--url", local_platform.base_url]
    user = _name("plain")
    assert _lodestar(env, "server", "user", "add", user, *url).returncode == 0
    key = _lodestar(env, "server", "key", "create", "--user", user, *url)

    as_plain = {**env, "LODESTAR_API_KEY": key.stdout.strip()}
    refused = _lodestar(as_plain, "server", "user", "add", _name("x"), *url)
    assert refused.returncode == 1
    assert "(HTTP 403)" in refused.stderr


def test_login_stores_a_checked_key_per_host(local_platform, tmp_path: Path) -> None:
    env = {**local_platform.env, "HOME": str(tmp_path)}
    env.pop("LODESTAR_API_KEY")
    host = local_platform.base_url

    stored = _lodestar(env, "login", "--host", host, local_platform.api_key)
    refused = _lodestar(env, "login", "--host", host, "lsk_not-a-key")

    assert stored.returncode == 0, stored.stderr
    assert refused.returncode == 1
    entry = netrc.netrc(str(tmp_path / ".netrc")).authenticators(
        host.split("://", 1)[1]
    )
    assert entry is not None and entry[2] == local_platform.api_key


def test_server_help_lists_the_commands(local_platform) -> None:
    shown = _lodestar(local_platform.env, "server", "--help")
    assert shown.returncode == 0
    for command in ("start", "stop", "status", "logs", "user", "team", "key"):
        assert command in shown.stdout
