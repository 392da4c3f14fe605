"""What a channel sends for an alert: pure functions, tested without a network.

Slack gets one attachment coloured by level, with the run's name, project
and a link to the run page; email gets the same content as plain text and
as HTML.
"""

from __future__ import annotations

import html
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from .ledger import AlertRecord
from .model import LEVELS

COLOURS = {0: "#2eb67d", 1: "#ecb22e", 2: "#e01e5a"}  # info, warn, error


def level_name(level: int) -> str:
    return LEVELS[level] if 0 <= level < len(LEVELS) else "info"


def slack_payload(alert: AlertRecord) -> dict[str, Any]:
    """The JSON body of a Slack incoming-webhook message."""
    level = level_name(alert.level)
    fields = [
        {"title": "Run", "value": alert.run_name or alert.run_id, "short": True},
        {"title": "Project", "value": f"{alert.entity}/{alert.project}",
         "short": True},
        {"title": "Level", "value": level.upper(), "short": True},
    ]
    attachment = {
        "color": COLOURS.get(alert.level, COLOURS[0]),
        "fallback": f"[{level.upper()}] {alert.title}",
        "title": alert.title,
        "text": alert.text,
        "fields": fields,
        "footer": "Lodestar",
        "ts": int(alert.event_time),
    }
    if alert.run_url:
        attachment["title_link"] = alert.run_url
    return {"text": f"[{level.upper()}] {alert.title}", "attachments": [attachment]}


def email_message(alert: AlertRecord, sender: str, to: list[str]) -> EmailMessage:
    """A multipart email: plain text, and HTML with the same content."""
    level = level_name(alert.level).upper()
    message = EmailMessage()
    message["Subject"] = f"[Lodestar {level}] {alert.title}"
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="lodestar")
    message["X-Lodestar-Alert"] = alert.alert_id
    message.set_content(_plain(alert, level))
    message.add_alternative(_html(alert, level), subtype="html")
    return message


def _plain(alert: AlertRecord, level: str) -> str:
    lines = [
        f"{level}: {alert.title}",
        "",
        alert.text,
        "",
        f"Run: {alert.run_name or alert.run_id}",
        f"Project: {alert.entity}/{alert.project}",
    ]
    if alert.run_url:
        lines.append(f"Link: {alert.run_url}")
    return "\n".join(lines) + "\n"


def _html(alert: AlertRecord, level: str) -> str:
    colour = COLOURS.get(alert.level, COLOURS[0])
    run = html.escape(alert.run_name or alert.run_id)
    if alert.run_url:
        run = f'<a href="{html.escape(alert.run_url, quote=True)}">{run}</a>'
    text = html.escape(alert.text).replace("\n", "<br>")
    return (
        f'<div style="border-left:4px solid {colour};padding-left:8px">'
        f"<p><strong>{level}: {html.escape(alert.title)}</strong></p>"
        f"<p>{text}</p>"
        f"<p>Run: {run}<br>"
        f"Project: {html.escape(alert.entity)}/{html.escape(alert.project)}</p>"
        "</div>\n"
    )
