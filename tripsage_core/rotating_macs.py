"""Short HMAC tags under a purpose-bound key derived from SECRET_KEY, with rotation.

The current secret signs; the current and the previous one verify, so values signed
just before a rotation (page tokens in flight, addresses vouched for by a gateway
replica not yet restarted) stay valid through it. Each process installs its secrets
at start-up; until then a random key keeps tags valid within the process only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from tripsage_core.config import Settings
from tripsage_core.key_derivation import derive_key
from tripsage_core.rotating_secrets import secret_key

TAG_BYTES = 16  # 128-bit tags: forging one is out of reach, values stay short


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64(text: str) -> bytes:
    """Raises ValueError (binascii.Error) on text that is not base64url."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class RotatingMac:
    def __init__(self, purpose: str) -> None:
        self.purpose = purpose
        self._keys = [secrets.token_bytes(32)]

    def use_secret(self, secret_key: str, previous_secret_key: str | None = None) -> None:
        keys = [derive_key(secret_key, self.purpose)]
        if previous_secret_key:
            keys.append(derive_key(previous_secret_key, self.purpose))
        self._keys = keys

    def use_settings(self, settings: Settings) -> None:
        if settings.secret_key is None:  # load_settings fills or demands it; bare test settings
            return
        pair = secret_key(settings)
        self.use_secret(pair.current, pair.previous)

    def tag(self, body: str) -> str:
        return b64(self._mac(self._keys[0], body))

    def verify(self, body: str, tag: str) -> bool:
        try:
            presented = unb64(tag)
        except ValueError:
            return False
        return any(hmac.compare_digest(self._mac(key, body), presented) for key in self._keys)

    @staticmethod
    def _mac(key: bytes, body: str) -> bytes:
        return hmac.new(key, body.encode(), hashlib.sha256).digest()[:TAG_BYTES]
