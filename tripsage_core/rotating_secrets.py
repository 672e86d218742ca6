"""Secrets that rotate: the current value signs, the previous one still verifies.

The one home of reading a current/previous pair from settings and of the
"try the current key, then the previous" check, used by access tokens
(DATABASE_JWT_SECRET), service credentials and BYOK encryption (SECRET_KEY).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jwt
from pydantic import SecretStr

from tripsage_core.config import Settings


@dataclass(frozen=True)
class RotatingSecret:
    current: str
    previous: str | None = None


def _pair(name: str, current: SecretStr | None, previous: SecretStr | None) -> RotatingSecret:
    assert current is not None, f"{name} is unset"  # load_settings fills or demands it
    return RotatingSecret(
        current.get_secret_value(), previous.get_secret_value() if previous else None
    )


def secret_key(settings: Settings) -> RotatingSecret:
    return _pair("SECRET_KEY", settings.secret_key, settings.secret_key_previous)


def jwt_secret(settings: Settings) -> RotatingSecret:
    return _pair(
        "DATABASE_JWT_SECRET", settings.database_jwt_secret, settings.database_jwt_previous_secret
    )


def decode_with_current_or_previous(
    token: str, current: str | bytes, previous: str | bytes | None, **options: Any
) -> dict[str, Any]:
    """The verified claims of an HS256 token signed with either key.

    Only a bad signature moves on to the previous key; any other problem (expired,
    wrong audience...) is the token's and is raised at once.
    """
    try:
        return jwt.decode(token, current, algorithms=["HS256"], **options)
    except jwt.InvalidSignatureError:
        if previous is None:
            raise
    return jwt.decode(token, previous, algorithms=["HS256"], **options)
