"""The credential TripSage services present to each other.

A short-lived HS256 JWT with role "service_role", signed with a key derived
from SECRET_KEY (HKDF, purpose-bound, so it is distinct from
DATABASE_JWT_SECRET and a Supabase token can never pass for it). It names the
calling service and, when the call is made for an end user, carries that
user's already-verified principal in the `obo` (on behalf of) claim. It travels
in the `x-tripsage-service-token` metadata entry, which the gateway never
forwards from the outside.
"""

from __future__ import annotations

import re
import time
from typing import Any

import jwt

from tripsage_core.config import Settings
from tripsage_core.errors import Unauthenticated
from tripsage_core.identity import CLOCK_SKEW_SECONDS, Principal, PrincipalKind
from tripsage_core.key_derivation import derive_key
from tripsage_core.rotating_secrets import decode_with_current_or_previous, secret_key

SERVICE_TOKEN_HEADER = "x-tripsage-service-token"
SERVICE_AUDIENCE = "tripsage-services"
SERVICE_ROLE = "service_role"
SERVICE_TOKEN_TTL_SECONDS = 60
_PURPOSE = "tripsage service credential v1"
_SERVICE_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")


class ServiceCredentials:
    """Mints and verifies service credentials (the previous SECRET_KEY still verifies)."""

    def __init__(self, secret_key: str, *, previous_secret_key: str | None = None) -> None:
        self._key = derive_key(secret_key, _PURPOSE)
        self._previous = derive_key(previous_secret_key, _PURPOSE) if previous_secret_key else None

    def issue(self, service: str, on_behalf_of: Principal | None = None) -> str:
        if not _SERVICE_NAME.match(service):
            raise ValueError(f"not a service name: {service!r}")
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": "tripsage",
            "sub": f"service:{service}",
            "aud": SERVICE_AUDIENCE,
            "role": SERVICE_ROLE,
            "iat": now,
            "exp": now + SERVICE_TOKEN_TTL_SECONDS,
        }
        if on_behalf_of is not None and on_behalf_of.user_id:
            claims["obo"] = on_behalf_of.to_claims()
        return jwt.encode(claims, self._key, algorithm="HS256")

    def verify(self, token: str) -> Principal:
        """The principal of a service call: the end user it acts for, or the service itself."""
        try:
            claims = decode_with_current_or_previous(
                token,
                self._key,
                self._previous,
                audience=SERVICE_AUDIENCE,
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["sub", "exp", "iat"]},
            )
        except jwt.InvalidSignatureError:
            raise Unauthenticated(
                "invalid service credential", reason="SERVICE_TOKEN_INVALID"
            ) from None
        except jwt.PyJWTError as exc:
            raise Unauthenticated(
                f"invalid service credential: {exc}", reason="SERVICE_TOKEN_INVALID"
            ) from None
        if claims.get("role") != SERVICE_ROLE:
            raise Unauthenticated("invalid service credential", reason="SERVICE_TOKEN_INVALID")
        service = str(claims["sub"]).removeprefix("service:")
        obo = claims.get("obo")
        if isinstance(obo, dict):
            try:
                return Principal.from_claims(obo, via_service=service)
            except ValueError:
                raise Unauthenticated(
                    "invalid service credential", reason="SERVICE_TOKEN_INVALID"
                ) from None
        return Principal(user_id="", kind=PrincipalKind.SERVICE, via_service=service)


def service_credentials(settings: Settings) -> ServiceCredentials:
    secret = secret_key(settings)
    return ServiceCredentials(secret.current, previous_secret_key=secret.previous)
