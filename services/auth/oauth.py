"""Sign-in with an external identity provider: OAuth 2.0 authorization code + PKCE + state.

Endpoints come from configuration, so Google, GitHub or any OpenID Connect
issuer works. Start stores (state -> provider, redirect URI, PKCE verifier,
nonce) in Redis for ten minutes; Complete consumes it once, exchanges the
code over the back channel with the client secret and the verifier, then
reads who signed in from the provider's userinfo (OIDC) or user/emails
(GitHub) endpoint. An id_token, when returned, must be signed by the issuer
(its JWKS) or with the client secret (HS256), name our client and the
configured issuer, and carry our nonce.

Linking: a known (provider, subject) signs in its user; otherwise a
provider-verified email that matches an account links to it; otherwise a new
account is created. An unverified email never links to an existing account.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlencode

import jwt
import redis.asyncio as redis

if TYPE_CHECKING:
    import httpx

from services.auth.accounts import Accounts, SignedIn, email_problem, normalize_email
from services.auth.store import UserRecord, UserStore, refuse_disabled
from tripsage_core.errors import (
    FailedPrecondition,
    InvalidArgument,
    Unauthenticated,
    Unavailable,
)

logger = logging.getLogger("tripsage.auth.oauth")

STATE_TTL_SECONDS = 600
_STATE_PREFIX = "tripsage:auth:oauth-state"


@dataclass(frozen=True)
class OAuthProvider:
    name: str
    style: Literal["oidc", "github"]
    client_id: str
    client_secret: str
    authorize_url: str
    token_url: str
    userinfo_url: str
    emails_url: str = ""
    scope: str = "openid email profile"
    # OIDC: where the issuer publishes its signing keys, and its `iss` value.
    jwks_url: str = ""
    issuer: str = ""


@dataclass(frozen=True)
class ExternalIdentity:
    subject: str
    email: str
    email_verified: bool
    name: str


@dataclass(frozen=True)
class OAuthSignIn:
    signed_in: SignedIn
    new_user: bool


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


class OAuthSignIns:
    def __init__(
        self,
        providers: dict[str, OAuthProvider],
        *,
        redirect_uris: list[str],
        states: redis.Redis,
        users: UserStore,
        accounts: Accounts,
        timeout: float = 10.0,
    ) -> None:
        self.providers = providers
        self.redirect_uris = set(redirect_uris)
        self.states = states
        self.users = users
        self.accounts = accounts
        self.timeout = timeout
        self._jwks: dict[str, jwt.PyJWKClient] = {}

    def _provider(self, name: str) -> OAuthProvider:
        if not name:
            raise InvalidArgument.for_field("provider", "must be GOOGLE or GITHUB")
        provider = self.providers.get(name)
        if provider is None:
            raise FailedPrecondition(
                f"sign-in with {name} is not configured on this server",
                reason="OAUTH_NOT_CONFIGURED",
            )
        return provider

    def _check_redirect(self, redirect_uri: str) -> None:
        if redirect_uri not in self.redirect_uris:
            raise InvalidArgument.for_field(
                "redirect_uri", "is not one of the allowed OAUTH_REDIRECT_URIS"
            )

    async def start(self, provider_name: str, redirect_uri: str) -> tuple[str, str]:
        """(authorization URL, state)."""
        provider = self._provider(provider_name)
        self._check_redirect(redirect_uri)
        state = secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(48)
        nonce = secrets.token_urlsafe(16)
        pending = {
            "provider": provider.name,
            "redirect_uri": redirect_uri,
            "verifier": verifier,
            "nonce": nonce,
        }
        await self.states.set(f"{_STATE_PREFIX}:{state}", json.dumps(pending), ex=STATE_TTL_SECONDS)
        params = {
            "response_type": "code",
            "client_id": provider.client_id,
            "redirect_uri": redirect_uri,
            "scope": provider.scope,
            "state": state,
            "code_challenge": _challenge(verifier),
            "code_challenge_method": "S256",
        }
        if provider.style == "oidc":
            params["nonce"] = nonce
        separator = "&" if "?" in provider.authorize_url else "?"
        return f"{provider.authorize_url}{separator}{urlencode(params)}", state

    async def complete(
        self, provider_name: str, *, code: str, state: str, redirect_uri: str
    ) -> OAuthSignIn:
        provider = self._provider(provider_name)
        if not code:
            raise InvalidArgument.for_field("code", "is required")
        raw = await self.states.getdel(f"{_STATE_PREFIX}:{state}") if state else None
        if raw is None:
            raise InvalidArgument.for_field("state", "is unknown, expired or already used")
        pending = json.loads(raw)
        if pending["provider"] != provider.name or pending["redirect_uri"] != redirect_uri:
            raise InvalidArgument.for_field(
                "state", "was issued for another provider or redirect_uri"
            )
        identity = await self._identify(provider, code, redirect_uri, pending)
        user, new_user = await self._user_for(provider, identity)
        refuse_disabled(user)
        logger.info(
            "oauth sign-in", extra={"user_id": user.id, "provider": provider.name, "new": new_user}
        )
        return OAuthSignIn(await self.accounts.start_session(user), new_user)

    async def _identify(
        self, provider: OAuthProvider, code: str, redirect_uri: str, pending: dict[str, str]
    ) -> ExternalIdentity:
        import httpx  # on the first call: 18 MB an auth process without it never spends

        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                tokens = await self._exchange(client, provider, code, redirect_uri, pending)
                if provider.style == "github":
                    return await self._github_identity(client, provider, tokens)
                return await self._oidc_identity(client, provider, tokens, pending["nonce"])
        except httpx.HTTPError as exc:
            raise Unavailable(f"{provider.name} could not be reached: {exc}") from None

    async def _exchange(
        self,
        client: httpx.AsyncClient,
        provider: OAuthProvider,
        code: str,
        redirect_uri: str,
        pending: dict[str, str],
    ) -> dict[str, Any]:
        response = await client.post(
            provider.token_url,
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "client_id": provider.client_id,
                "client_secret": provider.client_secret,
                "code_verifier": pending["verifier"],
            },
            headers={"Accept": "application/json"},
        )
        try:
            body = response.json() if response.content else {}
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        if response.status_code >= 500:
            raise Unavailable(f"{provider.name} token endpoint answered {response.status_code}")
        if not response.is_success or "access_token" not in body:
            # RFC 6749 5.2: invalid_grant and friends; GitHub answers 200 with "error".
            reason = body.get("error_description") or body.get("error") or response.status_code
            raise Unauthenticated(
                f"{provider.name} refused the sign-in: {reason}", reason="OAUTH_CODE_REFUSED"
            )
        return dict(body)

    async def _oidc_identity(
        self, client: httpx.AsyncClient, provider: OAuthProvider, tokens: dict[str, Any], nonce: str
    ) -> ExternalIdentity:
        id_token = tokens.get("id_token")
        if id_token:
            await self._check_id_token(provider, str(id_token), nonce)
        response = await client.get(
            provider.userinfo_url, headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
        if not response.is_success:
            raise Unauthenticated(
                f"{provider.name} userinfo answered {response.status_code}",
                reason="OAUTH_USERINFO_FAILED",
            )
        info = response.json()
        verified = info.get("email_verified")
        return ExternalIdentity(
            subject=str(info["sub"]),
            email=str(info.get("email") or ""),
            email_verified=verified is True or verified == "true",
            name=str(info.get("name") or ""),
        )

    async def _check_id_token(self, provider: OAuthProvider, id_token: str, nonce: str) -> None:
        """The id_token must be signed by the issuer (JWKS) or with our client secret
        (HS256), be for our client, from the configured issuer, and carry our nonce."""
        try:
            algorithm = jwt.get_unverified_header(id_token).get("alg")
            if algorithm == "HS256":
                key: Any = provider.client_secret
            elif algorithm in ("RS256", "ES256") and provider.jwks_url:
                key = await asyncio.to_thread(self._signing_key, provider, id_token)
            else:
                raise jwt.InvalidAlgorithmError(f"unsupported id_token algorithm {algorithm}")
            claims = jwt.decode(
                id_token,
                key,
                algorithms=[str(algorithm)],
                audience=provider.client_id,
                issuer=provider.issuer or None,
                leeway=30,
            )
        except (jwt.PyJWTError, jwt.PyJWKClientError) as exc:
            raise Unauthenticated(
                f"{provider.name} id_token is not valid: {exc}", reason="OAUTH_ID_TOKEN_INVALID"
            ) from None
        if claims.get("nonce") != nonce:
            raise Unauthenticated(
                f"{provider.name} id_token nonce does not match", reason="OAUTH_ID_TOKEN_INVALID"
            )

    def _signing_key(self, provider: OAuthProvider, id_token: str) -> Any:
        # PyJWKClient caches the issuer's keys and refetches on an unknown key id.
        client = self._jwks.setdefault(
            provider.jwks_url, jwt.PyJWKClient(provider.jwks_url, timeout=int(self.timeout))
        )
        return client.get_signing_key_from_jwt(id_token).key

    async def _github_identity(
        self, client: httpx.AsyncClient, provider: OAuthProvider, tokens: dict[str, Any]
    ) -> ExternalIdentity:
        headers = {
            "Authorization": f"Bearer {tokens['access_token']}",
            "Accept": "application/vnd.github+json",
        }
        user = await client.get(provider.userinfo_url, headers=headers)
        emails = await client.get(provider.emails_url, headers=headers)
        if not user.is_success or not emails.is_success:
            raise Unauthenticated(
                f"{provider.name} user lookup failed", reason="OAUTH_USERINFO_FAILED"
            )
        profile = user.json()
        listed = emails.json()
        primary = next((e for e in listed if e.get("primary")), listed[0] if listed else {})
        return ExternalIdentity(
            subject=str(profile["id"]),
            email=str(primary.get("email") or profile.get("email") or ""),
            email_verified=bool(primary.get("verified")),
            name=str(profile.get("name") or profile.get("login") or ""),
        )

    async def _user_for(
        self, provider: OAuthProvider, identity: ExternalIdentity
    ) -> tuple[UserRecord, bool]:
        linked = await self.users.user_by_identity(provider.name, identity.subject)
        if linked is not None:
            return linked, False
        normalized = normalize_email(identity.email)
        if email_problem(normalized):
            raise FailedPrecondition(
                f"{provider.name} did not share a usable email address",
                reason="OAUTH_EMAIL_MISSING",
            )
        existing = await self.users.user_by_email(normalized)
        if existing is not None:
            if not identity.email_verified:
                raise FailedPrecondition(
                    f"an account with this email exists and {provider.name} has not verified"
                    " the address; sign in with your password",
                    reason="OAUTH_EMAIL_UNVERIFIED",
                )
            await self.users.link_identity(
                existing.id, provider.name, identity.subject, identity.email
            )
            if not existing.email_verified:
                # Nobody had proved the address: the account may be a squatter's.
                existing = await self.accounts.reclaim_unverified(existing)
            return existing, False
        created = await self.users.create_user(
            email=identity.email.strip(),
            email_normalized=normalized,
            full_name=identity.name.strip()[:200],
            email_verified=identity.email_verified,
        )
        if created is None:  # registered at this very moment by someone else
            raise FailedPrecondition("an account with this email was just created; retry")
        await self.users.link_identity(created.id, provider.name, identity.subject, identity.email)
        return created, True
