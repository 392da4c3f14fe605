"""Channel secrets sealed with the platform's server key.

Webhook URLs and SMTP passwords are stored as ``v1.<base64>``: a random
12-byte nonce and the AES-256-GCM ciphertext. The key comes from
`PlatformConfig.server_secret` through HKDF-SHA256, and the channel id is the
associated data, so a sealed value copied onto another channel does not open.
Secrets never leave the service whole: the API shows `mask` of them.
"""

from __future__ import annotations

import base64
import os
import urllib.parse

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .errors import SecretError

_PREFIX = "v1."
_INFO = b"lodestar alerts: channel secrets"


class SecretBox:
    """Seals and opens channel secrets with a key derived from `server_secret`."""

    def __init__(self, server_secret: str) -> None:
        if len(server_secret) < 16:
            raise SecretError(
                "the platform's server_secret is missing or shorter than 16 "
                "characters; set it in platform.json or LODESTAR_SERVER_SERVER_SECRET"
            )
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO)
        self._aead = AESGCM(hkdf.derive(server_secret.encode("utf-8")))

    def seal(self, plain: str, context: str) -> str:
        """The sealed form of `plain`, bound to `context` (a channel id)."""
        if not plain:
            return ""
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plain.encode("utf-8"), context.encode())
        return _PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def open(self, token: str, context: str) -> str:
        """The plain secret of `token`.

        Raises:
            SecretError: `token` was sealed with another key or for another
                channel, or it is damaged.
        """
        if not token:
            return ""
        if not token.startswith(_PREFIX):
            raise SecretError("the stored value is not a sealed secret")
        try:
            raw = base64.urlsafe_b64decode(token[len(_PREFIX):])
            plain = self._aead.decrypt(raw[:12], raw[12:], context.encode())
        except (InvalidTag, ValueError):
            raise SecretError(
                "it does not open with this server key (was server_secret changed?)"
            ) from None
        return plain.decode("utf-8")


def mask(secret: str) -> str:
    """What the API shows of a secret: a URL's host and port and the last 4
    characters of its path, or the last 4 characters of anything else."""
    if not secret:
        return ""
    parsed = urllib.parse.urlsplit(secret)
    if parsed.scheme and parsed.hostname:
        try:
            port = f":{parsed.port}" if parsed.port else ""
        except ValueError:  # a port that is not a number: show none
            port = ""
        rest = parsed.path + (f"?{parsed.query}" if parsed.query else "")
        tail = rest[-4:] if len(rest) >= 8 else ""
        return f"{parsed.scheme}://{parsed.hostname}{port}/…{tail}"
    tail = secret[-4:] if len(secret) >= 12 else ""
    return f"…{tail}" if tail else "…"
