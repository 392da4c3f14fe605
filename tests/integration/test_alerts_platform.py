"""Alerts end to end on the local platform: training scripts calling
``lodestar.alert`` or dying in different ways, the alerts service as the
launcher runs it, a Slack stand-in, and the ``lodestar alerts`` command."""

from __future__ import annotations

import json
import pathlib
import secrets
import signal
import subprocess
import sys
import textwrap
import urllib.parse

import pytest
from alerts_support import WebhookReceiver
from ingest_support import wait_for
from lodestar.agent_status import read_status

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def hooks():
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


def cli(platform, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lodestar.cli", "alerts", *args], env=platform.env,
        capture_output=True, text=True, timeout=60,
    )


def subscribe(platform, hooks: WebhookReceiver, project: str) -> tuple[str, str]:
    """A Slack channel for `project`, added through the CLI: hook name, id."""
    hook = f"{project}-hook"
    done = cli(platform, "channel", "add", "slack", "--url", hooks.url(hook),
               "--project", project, "--name", project)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("added slack channel c")
    assert done.stdout.rstrip().endswith(f"/{project}")
    return hook, done.stdout.split()[3]


def start(platform, tmp_path: pathlib.Path, body: str, *args: str
          ) -> subprocess.Popen:
    script = tmp_path / f"train-{secrets.token_hex(3)}.py"
    script.write_text(textwrap.dedent(body))
    return subprocess.Popen(
        [sys.executable, "-u", str(script), *args], cwd=tmp_path, env=platform.env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def titles(hooks: WebhookReceiver, hook: str) -> list[str]:
    return sorted(p["json"]["attachments"][0]["title"] for p in hooks.posts(hook))


ALERTING = """
import sys, lodestar
run = lodestar.init(project=sys.argv[1], name="talker")
run.log({"loss": 1.0})
lodestar.alert("just so you know", "step 0 went fine")
run.alert("warming up", "lr is high", level=lodestar.AlertLevel.WARN)
run.alert("gone wrong", "grad norm exploded", level="ERROR", wait_duration=0)
run.finish()
"""


def test_alerts_from_training_code_reach_slack_and_the_log(local_platform, hooks,
                                                           tmp_path):
    project = "alerting-" + secrets.token_hex(3)
    hook, channel = subscribe(local_platform, hooks, project)
    listed = cli(local_platform, "channel", "list")
    assert listed.returncode == 0 and hook not in listed.stdout
    (line,) = [ln for ln in listed.stdout.splitlines() if ln.startswith(channel)]
    assert line.split()[1:3] == ["slack", project]
    port = urllib.parse.urlsplit(hooks.url(hook)).port
    assert line.endswith(f"http://127.0.0.1:{port}/…hook")
    tested = cli(local_platform, "test", channel)
    assert (tested.returncode, tested.stdout.strip()) == (
        0, f"test message sent through {channel}")

    proc = start(local_platform, tmp_path, ALERTING, project)
    assert proc.wait(120) == 0, proc.stderr.read()

    expected = ["Run talker finished", f"Test message for channel {project}",
                "gone wrong", "just so you know", "warming up"]
    wait_for(lambda: titles(hooks, hook) == sorted(expected), 60, "five messages")
    colours = {p["json"]["attachments"][0]["title"]:
               p["json"]["attachments"][0]["color"] for p in hooks.posts(hook)}
    assert [colours[t] for t in ("just so you know", "warming up", "gone wrong")] == [
        "#2eb67d", "#ecb22e", "#e01e5a"]

    def logged():
        done = cli(local_platform, "log", "--project", project, "--json")
        alerts = json.loads(done.stdout) if done.returncode == 0 else []
        sent = [a for a in alerts if [t["status"] for t in a["attempts"]] == ["sent"]]
        return alerts if len(sent) == 4 else None

    alerts = wait_for(logged, 60, "four alerts sent in the log")
    assert sorted((a["kind"], a["title"]) for a in alerts) == [
        ("finished", "Run talker finished"), ("user", "gone wrong"),
        ("user", "just so you know"), ("user", "warming up")]
    text = cli(local_platform, "log", "--project", project).stdout
    assert "ERROR  " in text and "gone wrong  (paged)" in text


WAITING = """
import os, pathlib, sys, time, lodestar
from lodestar.agent_status import read_status
run = lodestar.init(project=sys.argv[1], name=sys.argv[2])
run.log({"loss": 1.0})
while not read_status(pathlib.Path(run.run_dir)).pid:
    time.sleep(0.01)
print(run.run_dir, flush=True)
while not os.path.exists(sys.argv[3]):
    time.sleep(0.01)
if sys.argv[4] == "raise":
    raise ValueError("diverged")
run.finish()
"""


def test_a_killed_training_process_alerts_crashed_and_a_killed_agent_does_not(
    local_platform, hooks, tmp_path
):
    project = "crashes-" + secrets.token_hex(3)
    hook, _ = subscribe(local_platform, hooks, project)
    never, go = tmp_path / "never", tmp_path / "go"
    victim = start(local_platform, tmp_path, WAITING, project, "victim", str(never),
                   "finish")
    survivor = start(local_platform, tmp_path, WAITING, project, "survivor", str(go),
                     "finish")
    victim.stdout.readline()
    run_dir = pathlib.Path(survivor.stdout.readline().strip())

    victim.send_signal(signal.SIGKILL)
    victim.wait(30)
    agent = read_status(run_dir).pid
    subprocess.run(["kill", "-9", str(agent)], check=True)
    wait_for(lambda: read_status(run_dir).pid not in (0, agent), 30,
             "the SDK to restart the agent")
    go.write_text("go")
    assert survivor.wait(120) == 0, survivor.stderr.read()

    wait_for(lambda: titles(hooks, hook) == ["Run survivor finished",
                                             "Run victim crashed"],
             60, "one crash and one finish")
    crashed = [p["json"] for p in hooks.posts(hook)
               if p["json"]["text"].startswith("[ERROR]")]
    assert crashed[0]["attachments"][0]["fields"][0]["value"] == "victim"


def test_sigterm_alerts_killed_and_an_exception_alerts_failed(
    local_platform, hooks, tmp_path
):
    project = "endings-" + secrets.token_hex(3)
    hook, _ = subscribe(local_platform, hooks, project)
    never, go = tmp_path / "never", tmp_path / "go"
    stopped = start(local_platform, tmp_path, WAITING, project, "stopped",
                    str(never), "finish")
    broken = start(local_platform, tmp_path, WAITING, project, "broken", str(go),
                   "raise")
    stopped.stdout.readline()
    broken.stdout.readline()
    stopped.send_signal(signal.SIGTERM)
    go.write_text("go")
    assert stopped.wait(60) == -signal.SIGTERM
    assert broken.wait(60) == 1

    wait_for(lambda: titles(hooks, hook) == ["Run broken failed",
                                             "Run stopped was killed"],
             60, "a killed and a failed alert")
    texts = sorted(p["json"]["attachments"][0]["text"] for p in hooks.posts(hook))
    assert texts[0].endswith("failed (exit code 1, exception: ValueError).")
    assert texts[1].endswith("was killed (exit code 143, SIGTERM).")
