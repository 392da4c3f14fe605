"""Sending one alert to one channel, whatever its type."""

from __future__ import annotations

from . import slack, smtp
from .crypto import SecretBox
from .errors import SecretError, SendFailed
from .ledger import AlertRecord
from .messages import email_message, slack_payload
from .model import Channel
from .settings import AlertsSettings


async def deliver(
    channel: Channel, alert: AlertRecord, box: SecretBox, settings: AlertsSettings
) -> None:
    """One attempt to send `alert` through `channel`.

    Raises:
        SendFailed: the attempt did not go through (see its `permanent`).
    """
    try:
        secret = box.open(channel.secret, channel.id)
    except SecretError as exc:
        raise SendFailed(str(exc), permanent=True) from None
    if channel.type == "slack":
        await slack.send(secret, slack_payload(alert), settings.send_timeout_s)
    elif channel.type == "email":
        await _email(channel, alert, secret, settings)
    else:
        raise SendFailed(f"unknown channel type {channel.type!r}", permanent=True)


async def _email(
    channel: Channel, alert: AlertRecord, password: str, settings: AlertsSettings
) -> None:
    conf = channel.settings
    target = smtp.SmtpTarget(
        host=conf["smtp_host"], port=int(conf["smtp_port"]),
        security=conf["security"], user=conf.get("smtp_user", ""),
        password=password, ca_file=settings.smtp_ca_file,
    )
    sender = conf.get("sender") or settings.smtp_from
    message = email_message(alert, sender, list(conf["to"]))
    await smtp.send(target, message, settings.send_timeout_s)
