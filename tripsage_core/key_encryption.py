"""Encryption at rest of secrets users hand us (BYOK provider keys).

AES-256-GCM under a key derived with HKDF from SECRET_KEY and a random salt
kept beside each ciphertext. The associated data binds a ciphertext to its
owner and provider, so a row copied to another user does not decrypt. Each
sealed value records `key_id` (a fingerprint of the SECRET_KEY used) and the
scheme version, so after a SECRET_KEY change the previous key still decrypts
what it sealed until everything is re-encrypted.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tripsage_core.config import Settings
from tripsage_core.key_derivation import derive_key, key_fingerprint
from tripsage_core.rotating_secrets import secret_key

SCHEME_VERSION = 1
_PURPOSE = "tripsage byok provider key v1"


class UndecryptableError(Exception):
    """No configured SECRET_KEY decrypts this value (wrong key or tampered data)."""


@dataclass(frozen=True)
class Sealed:
    ciphertext: bytes
    nonce: bytes
    salt: bytes
    key_id: str
    key_version: int = SCHEME_VERSION


class KeyEncryption:
    def __init__(self, secret_key: str, *, previous_secret_key: str | None = None) -> None:
        self._secrets = {key_fingerprint(secret_key): secret_key}
        if previous_secret_key:
            self._secrets.setdefault(key_fingerprint(previous_secret_key), previous_secret_key)
        self.current_key_id = key_fingerprint(secret_key)

    def seal(self, plaintext: str, *, associated: str) -> Sealed:
        salt, nonce = os.urandom(16), os.urandom(12)
        key = derive_key(self._secrets[self.current_key_id], _PURPOSE, salt=salt)
        ciphertext = AESGCM(key).encrypt(nonce, plaintext.encode(), associated.encode())
        return Sealed(ciphertext, nonce, salt, self.current_key_id)

    def open(self, sealed: Sealed, *, associated: str) -> str:
        secret = self._secrets.get(sealed.key_id)
        if secret is None or sealed.key_version != SCHEME_VERSION:
            raise UndecryptableError(f"no configured SECRET_KEY has id {sealed.key_id}")
        key = derive_key(secret, _PURPOSE, salt=sealed.salt)
        try:
            plain = AESGCM(key).decrypt(sealed.nonce, sealed.ciphertext, associated.encode())
        except InvalidTag:
            raise UndecryptableError("ciphertext does not authenticate") from None
        return plain.decode()


def key_encryption(settings: Settings) -> KeyEncryption:
    secret = secret_key(settings)
    return KeyEncryption(secret.current, previous_secret_key=secret.previous)
