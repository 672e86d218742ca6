"""Reads the caller's credentials from gRPC metadata; every service verifies them itself.

Three kinds of credential are accepted, in this order:
  x-tripsage-service-token  another TripSage service (acting for an end user or itself),
  authorization: Bearer     an end user's access token (ours or Supabase's),
  x-api-key                 a server-to-server API key, resolved by the auth service.
Every principal is then checked against the shared revocation list (disabled
users, ended sessions, revoked keys) and API keys against their scopes.
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Any, Protocol

import grpc
import redis.asyncio as redis
from grpc import aio
from redis.exceptions import RedisError

from tripsage.auth.v1 import auth_service_pb2 as auth_pb
from tripsage.auth.v1 import auth_service_pb2_grpc as auth_grpc
from tripsage_core.api_key_scopes import allows
from tripsage_core.cache import redis_from_settings
from tripsage_core.client_address import HEADER as CLIENT_ADDRESS_HEADER
from tripsage_core.client_address import unseal
from tripsage_core.config import Settings
from tripsage_core.errors import PermissionDenied, Unauthenticated, Unavailable
from tripsage_core.grpc_kit.client import shared_service_channel
from tripsage_core.grpc_kit.metadata import metadata_value
from tripsage_core.grpc_kit.rpc_context import rpc_method_var
from tripsage_core.identity import (
    CLOCK_SKEW_SECONDS,
    AccessTokens,
    Principal,
    PrincipalKind,
    access_tokens,
    current_principal_var,
)
from tripsage_core.principal_proto import principal_from_proto
from tripsage_core.revocations import Revocations
from tripsage_core.service_credentials import (
    SERVICE_TOKEN_HEADER,
    ServiceCredentials,
    service_credentials,
)

API_KEY_HEADER = "x-api-key"
# Trailing metadata of ResolveCredential: when an API key expires (Unix seconds), so
# a resolved key is never cached past its expiry.
CREDENTIAL_EXPIRES_HEADER = "x-tripsage-credential-expires-at"

logger = logging.getLogger("tripsage.identity")


def bearer_token(context: aio.ServicerContext[Any, Any]) -> str | None:
    header = metadata_value(context, "authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("authorization must be 'Bearer <token>'", reason="TOKEN_INVALID")
    return token.strip()


def client_address(context: aio.ServicerContext[Any, Any]) -> str:
    """The address of the end client: the one the gateway sealed (tripsage_core.
    client_address), else the gRPC peer. Unsealed claims are ignored."""
    vouched = unseal(metadata_value(context, CLIENT_ADDRESS_HEADER))
    if vouched:
        return vouched
    peer = context.peer() or "unknown"
    # "ipv4:127.0.0.1:5555" / "ipv6:[::1]:5555" -> the host part.
    host = peer.split(":", 1)[-1].rsplit(":", 1)[0]
    return host.strip("[]")[:64] or "unknown"


class ApiKeyResolver(Protocol):
    async def resolve_api_key(self, secret: str) -> Principal: ...


class RemoteApiKeys:
    """Resolves API keys through the auth service, remembering answers for a few seconds.

    The short cache spares auth a call per request; revocation still takes
    effect on the next call because the revocation list is checked every time.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.ttl = settings.api_key_cache_seconds
        self._cache: dict[bytes, tuple[float, Principal]] = {}

    async def resolve_api_key(self, secret: str) -> Principal:
        digest = hashlib.sha256(secret.encode()).digest()
        cached = self._cache.get(digest)
        now = time.monotonic()
        if cached is not None and cached[0] > now:
            return cached[1]
        channel = shared_service_channel(self.settings.service_addr("auth"), self.settings)
        try:
            call = auth_grpc.AuthServiceStub(channel).ResolveCredential(
                auth_pb.ResolveCredentialRequest(api_key=secret), timeout=5
            )
            reply = await call
            trailers = await call.trailing_metadata()
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.UNAUTHENTICATED:
                raise Unauthenticated(
                    exc.details() or "invalid API key", reason="API_KEY_INVALID"
                ) from None
            raise Unavailable("cannot check the API key now; retry shortly") from None
        principal = principal_from_proto(reply.principal)
        keep = self.ttl
        for key, value in trailers or ():
            if key == CREDENTIAL_EXPIRES_HEADER:
                keep = min(keep, float(value) - time.time())
        if len(self._cache) > 10_000:
            self._cache.clear()
        if keep > 0:
            self._cache[digest] = (now + keep, principal)
        return principal


class CallerResolver:
    """Turns a call's metadata into a verified Principal, or raises Unauthenticated."""

    def __init__(
        self,
        tokens: AccessTokens,
        *,
        service_tokens: ServiceCredentials | None = None,
        revocations: Revocations | None = None,
        api_keys: ApiKeyResolver | None = None,
        admit_when_revocations_unreadable: bool = False,
    ) -> None:
        self.tokens = tokens
        self.service_tokens = service_tokens
        self.revocations = revocations
        self.api_keys = api_keys
        self.admit_when_revocations_unreadable = admit_when_revocations_unreadable
        self._last_warning = 0.0

    async def require(
        self, context: aio.ServicerContext[Any, Any], *, allow_service: bool = False
    ) -> Principal:
        """The verified caller. A service acting for nobody passes only with allow_service."""
        principal = await self._identify(context)
        if not principal.user_id and not (allow_service and principal.is_service):
            raise Unauthenticated("this call needs a user", reason="TOKEN_MISSING")
        if self.revocations is not None:
            try:
                await self.revocations.check(principal)
            except (RedisError, OSError):
                if not self.admit_when_revocations_unreadable:
                    raise Unavailable("cannot check credentials now; retry shortly") from None
                self._warn_admitted()
        if (
            principal.kind is PrincipalKind.API_KEY
            and not principal.is_service
            and not allows(principal.scopes, rpc_method_var.get())
        ):
            raise PermissionDenied(
                "this API key's scopes do not allow this call", reason="API_KEY_SCOPE"
            )
        current_principal_var.set(principal)
        return principal

    def has_credentials(self, context: aio.ServicerContext[Any, Any]) -> bool:
        """Whether the call carries any credential (verified only by `require`)."""
        return any(
            metadata_value(context, header)
            for header in (SERVICE_TOKEN_HEADER, "authorization", API_KEY_HEADER)
        )

    def _warn_admitted(self) -> None:
        now = time.monotonic()
        if now - self._last_warning > 30:
            self._last_warning = now
            logger.warning(
                "revocation list unreadable (Redis down): admitting verified tokens; "
                "a disabled user's token works until it expires"
            )

    async def _identify(self, context: aio.ServicerContext[Any, Any]) -> Principal:
        service_token = metadata_value(context, SERVICE_TOKEN_HEADER)
        if service_token and self.service_tokens is not None:
            return self.service_tokens.verify(service_token)
        token = bearer_token(context)
        if token is not None:
            return self.tokens.verify(token)
        api_key = metadata_value(context, API_KEY_HEADER)
        if api_key:
            if self.api_keys is None:
                raise Unauthenticated("API keys are not accepted here", reason="API_KEY_INVALID")
            return await self.api_keys.resolve_api_key(api_key.strip())
        raise Unauthenticated("sign in first: no access token", reason="TOKEN_MISSING")


def caller_resolver(
    settings: Settings,
    *,
    redis_client: redis.Redis | None = None,
    api_keys: ApiKeyResolver | None = None,
    admit_when_revocations_unreadable: bool = False,
) -> CallerResolver:
    """What every service's composition root uses to authenticate its callers.

    By default a call is refused (UNAVAILABLE) while the revocation list cannot
    be read, so a disabled user is never let in. A service whose calls expose
    nothing of other users' data (travel search) may instead admit verified
    callers during a Redis outage: tokens stay signed and short-lived.
    """
    if redis_client is None:
        redis_client = redis_from_settings(settings)
    revocations = (
        Revocations(
            redis_client,
            remember_seconds=settings.access_token_ttl_seconds + 2 * CLOCK_SKEW_SECONDS,
        )
        if redis_client is not None
        else None
    )
    return CallerResolver(
        access_tokens(settings),
        service_tokens=service_credentials(settings),
        revocations=revocations,
        api_keys=api_keys if api_keys is not None else RemoteApiKeys(settings),
        admit_when_revocations_unreadable=admit_when_revocations_unreadable,
    )
