"""Password hashing (argon2id) and the minimum strength rule.

Hashing is deliberately slow (~0.2 s); callers run it in a worker thread so the
event loop keeps serving other calls.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from tripsage_core.errors import InvalidArgument

MIN_LENGTH = 10
MAX_LENGTH = 256
MIN_DISTINCT_CHARACTERS = 5
_COMMON = {
    "password123", "1234567890", "qwertyuiop", "password1234", "iloveyou123",
    "letmein1234", "welcome123", "administrator", "passw0rd123", "abcdefghij",
}  # fmt: skip

_hasher = PasswordHasher()  # argon2id with the library's current recommended costs
# Verified against when an email is unknown, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("tripsage-timing-equaliser")


def check_strength(password: str, *, field: str = "password") -> None:
    """Length beats composition rules (NIST SP 800-63B): a long passphrase is fine."""
    if len(password) < MIN_LENGTH:
        raise InvalidArgument.for_field(field, f"must be at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise InvalidArgument.for_field(field, f"must be at most {MAX_LENGTH} characters")
    if len(set(password)) < MIN_DISTINCT_CHARACTERS or password.lower() in _COMMON:
        raise InvalidArgument.for_field(
            field, "is too easy to guess; use a longer phrase of unrelated words"
        )


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
