"""What the gateway itself knows about a request's credential.

The services verify every call themselves; the gateway verifies only what it
needs to decide things before a call: whose rate-limit bucket a request counts
against, and who may read its internal endpoints (detailed health, metrics).
An access token is verified locally (signature, audience, expiry). An API key
is resolved through auth's ResolveCredential and remembered for
API_KEY_CACHE_SECONDS; until then it counts as no credential at all, so a
made-up key is one more request from the client's address.

A verified access token is remembered by `AccessTokens.verify` itself (30 s,
never past its expiry; tripsage_core/identity.py): verifying an HS256 token on
every request was a tenth of the gateway's CPU. What the gateway decides from a
token (the bucket, administrator or not) is in the signed token, so it cannot go
stale; the services still check revocation on every call.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Mapping

from tripsage_core.config import Settings
from tripsage_core.errors import DomainError
from tripsage_core.grpc_kit.caller import ApiKeyResolver, RemoteApiKeys
from tripsage_core.identity import AccessTokens, Principal, access_tokens

logger = logging.getLogger("tripsage.gateway")

_MAX_REMEMBERED_KEYS = 10_000


class GatewayCallers:
    def __init__(
        self,
        tokens: AccessTokens | None = None,
        *,
        api_keys: ApiKeyResolver | None = None,
        api_key_ttl_seconds: float = 5.0,
        operator_token: str | None = None,
    ) -> None:
        self.tokens = tokens
        self.api_keys = api_keys
        self.api_key_ttl_seconds = api_key_ttl_seconds
        self._operator_token = operator_token.encode() if operator_token else None
        self._known_keys: dict[bytes, tuple[float, str]] = {}

    def user(self, headers: Mapping[str, str]) -> Principal | None:
        """The user of a valid bearer access token, else None (never raises)."""
        token = _bearer(headers)
        if token is None or self.tokens is None:
            return None
        try:
            return self.tokens.verify(token)
        except DomainError:
            return None

    def known_api_key(self, headers: Mapping[str, str]) -> str | None:
        """The id of the request's API key if it was resolved recently, else None."""
        secret = headers.get("x-api-key", "").strip()
        if not secret:
            return None
        found = self._known_keys.get(_digest(secret))
        if found is None or found[0] <= time.monotonic():
            return None
        return found[1]

    async def learn_api_key(self, headers: Mapping[str, str]) -> None:
        """Resolve the request's API key through auth, so later requests are known."""
        secret = headers.get("x-api-key", "").strip()
        if not secret or self.api_keys is None or self.api_key_ttl_seconds <= 0:
            return
        try:
            principal = await self.api_keys.resolve_api_key(secret)
        except DomainError:
            return  # invalid, or auth unreachable: it stays unknown
        if not principal.api_key_id:
            return
        if len(self._known_keys) >= _MAX_REMEMBERED_KEYS:
            self._known_keys.clear()
        expires = time.monotonic() + self.api_key_ttl_seconds
        self._known_keys[_digest(secret)] = (expires, principal.api_key_id)

    def is_operator(self, headers: Mapping[str, str]) -> bool:
        """OPERATOR_TOKEN as a bearer token, or an administrator's access token."""
        token = _bearer(headers)
        if token is None:
            return False
        if self._operator_token is not None and hmac.compare_digest(
            token.encode(), self._operator_token
        ):
            return True
        user = self.user(headers)
        return user is not None and user.is_admin


def gateway_callers(settings: Settings) -> GatewayCallers:
    operator = settings.operator_token
    return GatewayCallers(
        access_tokens(settings),
        api_keys=RemoteApiKeys(settings),
        api_key_ttl_seconds=settings.api_key_cache_seconds,
        operator_token=operator.get_secret_value() if operator else None,
    )


def _bearer(headers: Mapping[str, str]) -> str | None:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()
