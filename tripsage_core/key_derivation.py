"""Purpose-bound keys derived from one master secret (HKDF-SHA256, RFC 5869).

Each use of SECRET_KEY (service credentials, BYOK encryption, ...) gets its own
key, so a key leaked from one purpose says nothing about another.
"""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def derive_key(master_secret: str, purpose: str, *, salt: bytes | None = None) -> bytes:
    """32 bytes for `purpose`, optionally salted (e.g. per user)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=purpose.encode()).derive(
        master_secret.encode()
    )


def key_fingerprint(master_secret: str) -> str:
    """A short public id of a master secret: tells which secret encrypted a value."""
    return hashlib.sha256(derive_key(master_secret, "tripsage key fingerprint")).hexdigest()[:12]
