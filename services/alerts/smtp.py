"""Email over SMTP: STARTTLS, implicit TLS, or plain (for a local relay).

4xx replies and network errors are retried; 5xx replies (a refused login, a
refused address) mean the channel is misconfigured. Messages carry the host
and the server's reply, never the password.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage

from .errors import SendFailed


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    security: str          # starttls, tls, none
    user: str
    password: str
    ca_file: str = ""      # "" trusts the system's certificates


async def send(target: SmtpTarget, message: EmailMessage, timeout_s: float) -> None:
    """Send `message` through `target`.

    Raises:
        SendFailed: the attempt did not go through.
    """
    await asyncio.to_thread(_send, target, message, timeout_s)


def _send(target: SmtpTarget, message: EmailMessage, timeout_s: float) -> None:
    where = f"{target.host}:{target.port}"
    try:
        with _connect(target, timeout_s) as client:
            if target.user:
                client.login(target.user, target.password)
            client.send_message(message)
    except smtplib.SMTPResponseException as exc:
        said = exc.smtp_error.decode("utf-8", "replace") if isinstance(
            exc.smtp_error, bytes) else str(exc.smtp_error)
        permanent = 500 <= exc.smtp_code < 600
        raise SendFailed(
            f"{where} answered {exc.smtp_code} {said}", permanent=permanent
        ) from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise SendFailed(f"{where} refused {sorted(exc.recipients)}",
                         permanent=True) from None
    except smtplib.SMTPNotSupportedError as exc:
        raise SendFailed(f"{where}: {exc}", permanent=True) from None
    except ssl.SSLError as exc:
        raise SendFailed(f"TLS with {where} failed: {exc.reason}",
                         permanent=True) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise SendFailed(f"cannot send through {where}: {exc}") from None


def _connect(target: SmtpTarget, timeout_s: float) -> smtplib.SMTP:
    context = ssl.create_default_context(cafile=target.ca_file or None)
    if target.security == "tls":
        return smtplib.SMTP_SSL(
            target.host, target.port, timeout=timeout_s, context=context
        )
    client = smtplib.SMTP(target.host, target.port, timeout=timeout_s)
    try:
        client.ehlo()
        if target.security == "starttls":
            client.starttls(context=context)
            client.ehlo()
    except BaseException:
        client.close()
        raise
    return client
