"""Opaque, authenticated tokens: a short JSON list sealed with AES-GCM under SECRET_KEY.

What a token holds can neither be read nor altered by whoever holds it; each use
has a purpose of its own, so a token made for one use is unknown to every other
(and to access tokens, which are signed with SECRET_KEY itself).

A token opens only in the one spelling it was issued in: unpadded URL-safe base64.
Base64 has other spellings of the same bytes (padding, ``+`` and ``/``, characters a
lenient decoder skips, different unused bits in the last character); a link is a
credential, so none of them is the same link.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12


class SealedTokens:
    """Seals and opens tokens for one ``purpose``."""

    def __init__(self, secret_key: str, purpose: bytes) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                   info=purpose).derive(secret_key.encode())
        self._cipher = AESGCM(key)
        self._purpose = purpose

    def seal(self, values: list[Any]) -> str:
        """A URL-safe token holding ``values`` (JSON)."""
        payload = json.dumps(values, separators=(",", ":")).encode()
        nonce = os.urandom(NONCE_BYTES)
        return _spelled(nonce + self._cipher.encrypt(nonce, payload, self._purpose))

    def open(self, token: str) -> list[Any] | None:
        """The values a token holds, or None if it is not one of ours."""
        try:
            sealed = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            if _spelled(sealed) != token:
                return None
            payload = self._cipher.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:],
                                           self._purpose)
            values = json.loads(payload)
        except (InvalidTag, ValueError, TypeError, binascii.Error):
            return None
        return values if isinstance(values, list) else None


def _spelled(sealed: bytes) -> str:
    """The one spelling of a token's bytes: URL-safe base64 without padding."""
    return base64.urlsafe_b64encode(sealed).rstrip(b"=").decode()
