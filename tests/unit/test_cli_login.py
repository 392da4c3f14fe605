"""`lodestar login` stores a key only when the platform accepted it."""

import os
import subprocess
import sys


def _login(home, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LODESTAR_")}
    env.update(HOME=str(home), NETRC=str(home / ".netrc"))
    return subprocess.run(
        [sys.executable, "-m", "lodestar.cli", "login", "--host",
         "http://127.0.0.1:1", *args],
        env=env, capture_output=True, text=True, timeout=60,
    )


def test_unreachable_platform_stores_nothing(tmp_path):
    done = _login(tmp_path, "lsk_unchecked")
    assert done.returncode != 0
    assert "nothing was stored" in done.stderr
    assert not (tmp_path / ".netrc").exists()


def test_no_verify_stores_the_key_unchecked(tmp_path):
    done = _login(tmp_path, "--no-verify", "lsk_unchecked")
    assert done.returncode == 0, done.stderr
    netrc = (tmp_path / ".netrc").read_text()
    assert netrc == "machine 127.0.0.1:1 login user password lsk_unchecked\n"
