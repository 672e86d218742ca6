"""Who is calling: Supabase-compatible access tokens and the principal they carry.

Access tokens are HS256 JWTs with the claim set Supabase Auth issues (sub, email,
role="authenticated", aud="authenticated", exp, iat, session_id, app_metadata),
so a token minted by a Supabase project sharing DATABASE_JWT_SECRET works too.
TripSage's own role (user/admin) travels in app_metadata.role, where Supabase
keeps operator-controlled data. A previous secret may be configured during
rotation; tokens signed with it stay valid until it is removed.

A shared secret alone does not make a token ours: it must also name an accepted
issuer (`iss`), so a token minted by another system that happens to share the
secret (another Supabase project, a staging stack) is refused.
"""

from __future__ import annotations

import time
import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import jwt

from tripsage_core.config import Settings
from tripsage_core.errors import Unauthenticated
from tripsage_core.rotating_secrets import decode_with_current_or_previous, jwt_secret

AUDIENCE = "authenticated"
ISSUER = "tripsage"  # the default TOKEN_ISSUER
CLOCK_SKEW_SECONDS = 30


class Role(StrEnum):
    USER = "user"
    ADMIN = "admin"


class PrincipalKind(StrEnum):
    USER = "user"
    API_KEY = "api_key"
    SERVICE = "service"


@dataclass(frozen=True)
class Principal:
    """Who a call is for. `via_service` names the TripSage service that relayed it (if any)."""

    user_id: str
    email: str = ""
    role: Role = Role.USER
    session_id: str = ""
    kind: PrincipalKind = PrincipalKind.USER
    scopes: tuple[str, ...] = field(default_factory=tuple)
    api_key_id: str = ""
    via_service: str = ""
    # The account's email address has been proven to belong to the caller (a followed
    # verification link, or an OAuth provider that says so). Only a verified address
    # may claim what was sent to it, such as trip invitations.
    email_verified: bool = False

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def is_service(self) -> bool:
        """A TripSage service made this call (acting for an end user or for itself)."""
        return bool(self.via_service)

    def to_claims(self) -> dict[str, Any]:
        return {
            "sub": self.user_id,
            "email": self.email,
            "role": self.role.value,
            "session_id": self.session_id,
            "kind": self.kind.value,
            "scopes": list(self.scopes),
            "api_key_id": self.api_key_id,
            "email_verified": self.email_verified,
        }

    @classmethod
    def from_claims(cls, claims: dict[str, Any], *, via_service: str) -> Principal:
        return cls(
            user_id=str(claims.get("sub") or ""),
            email=str(claims.get("email") or ""),
            role=Role(claims.get("role") or Role.USER.value),
            session_id=str(claims.get("session_id") or ""),
            kind=PrincipalKind(claims.get("kind") or PrincipalKind.USER.value),
            scopes=tuple(str(s) for s in claims.get("scopes") or ()),
            api_key_id=str(claims.get("api_key_id") or ""),
            via_service=via_service,
            email_verified=claims.get("email_verified") is True,
        )


# The verified caller of the RPC being served; calls this service makes to others
# carry it along in the service credential.
current_principal_var: ContextVar[Principal | None] = ContextVar("current_principal", default=None)


VERIFIED_CACHE_SECONDS = 30.0
VERIFIED_CACHE_SIZE = 10_000


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_in: int


class AccessTokens:
    """Mints and verifies access tokens with the current (and optionally previous) secret."""

    def __init__(
        self,
        secret: str,
        *,
        previous_secret: str | None = None,
        ttl_seconds: int = 900,
        issuer: str = ISSUER,
        accepted_issuers: tuple[str, ...] = (),
    ):
        if not secret:
            raise ValueError("an access-token secret is required")
        self._secret = secret
        self._previous = previous_secret or None
        self.ttl_seconds = ttl_seconds
        self.issuer = issuer
        self.accepted_issuers = frozenset((issuer, *accepted_issuers))
        self._verified: dict[str, tuple[float, Principal]] = {}  # token -> (until, user)

    def issue(
        self,
        *,
        user_id: str,
        email: str,
        role: Role,
        session_id: str,
        email_verified: bool = False,
    ) -> IssuedToken:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": user_id,
            "aud": AUDIENCE,
            "role": "authenticated",
            "email": email,
            "iat": now,
            "exp": now + self.ttl_seconds,
            "session_id": session_id,
            "jti": uuid.uuid4().hex,
            "aal": "aal1",
            "is_anonymous": False,
            "app_metadata": {"provider": "email", "providers": ["email"], "role": role.value},
            # Where Supabase Auth says whether the address is confirmed.
            "user_metadata": {"email_verified": email_verified},
        }
        return IssuedToken(jwt.encode(claims, self._secret, algorithm="HS256"), self.ttl_seconds)

    def verify(self, token: str) -> Principal:
        """The token's user, or Unauthenticated. A verified token is remembered (at most
        VERIFIED_CACHE_SIZE, each VERIFIED_CACHE_SECONDS and never past its expiry with
        the clock skew): the same token gives the same answer until then, and checking
        an HS256 signature on every call was a tenth of a read's CPU. Revocation is not
        part of this answer; callers check it on every call."""
        now = time.time()
        remembered = self._verified.get(token)
        if remembered is not None and remembered[0] > now:
            return remembered[1]
        principal, expires = self._verify(token)
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            self._verified.clear()
        self._verified[token] = (min(now + VERIFIED_CACHE_SECONDS, expires), principal)
        return principal

    def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            claims = decode_with_current_or_previous(
                token,
                self._secret,
                self._previous,
                audience=AUDIENCE,
                issuer=self.accepted_issuers,
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["sub", "exp", "iat", "iss"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("access token expired", reason="TOKEN_EXPIRED") from None
        except jwt.InvalidIssuerError:
            # The issuer is not echoed: it is the sender's text, of any length.
            raise Unauthenticated(
                "access token is from an issuer this service does not accept",
                reason="TOKEN_ISSUER",
            ) from None
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"invalid access token: {exc}", reason="TOKEN_INVALID") from None
        # Supabase's service_role/anon keys are not users; our services use their own credential.
        if claims.get("role") != "authenticated":
            raise Unauthenticated("token is not for a signed-in user", reason="TOKEN_INVALID")
        app_metadata = claims.get("app_metadata")
        role_name = app_metadata.get("role") if isinstance(app_metadata, dict) else None
        user_metadata = claims.get("user_metadata")
        verified = isinstance(user_metadata, dict) and user_metadata.get("email_verified") is True
        try:
            uuid.UUID(str(claims["sub"]))
        except ValueError:
            raise Unauthenticated(
                "token subject is not a user id", reason="TOKEN_INVALID"
            ) from None
        principal = Principal(
            user_id=str(claims["sub"]),
            email=str(claims.get("email") or ""),
            role=Role.ADMIN if role_name == Role.ADMIN.value else Role.USER,
            session_id=str(claims.get("session_id") or ""),
            email_verified=verified,
        )
        return principal, float(claims["exp"]) + CLOCK_SKEW_SECONDS


def access_tokens(settings: Settings) -> AccessTokens:
    """The token codec every service builds from DATABASE_JWT_SECRET (and the previous one)."""
    secret = jwt_secret(settings)
    return AccessTokens(
        secret.current,
        previous_secret=secret.previous,
        ttl_seconds=settings.access_token_ttl_seconds,
        issuer=settings.token_issuer,
        accepted_issuers=settings.accepted_token_issuers,
    )
