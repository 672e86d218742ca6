"""Reads the caller's credentials from gRPC metadata; every service verifies them itself."""

from __future__ import annotations

from typing import Any

from grpc import aio

from tripsage_core.config import Settings
from tripsage_core.errors import Unauthenticated
from tripsage_core.identity import AccessTokens, Principal, access_tokens


def metadata_value(context: aio.ServicerContext[Any, Any], key: str) -> str | None:
    for item_key, value in context.invocation_metadata() or ():
        if item_key == key:
            return value if isinstance(value, str) else value.decode()
    return None


def bearer_token(context: aio.ServicerContext[Any, Any]) -> str | None:
    header = metadata_value(context, "authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("authorization must be 'Bearer <token>'", reason="TOKEN_INVALID")
    return token.strip()


class CallerResolver:
    """Turns a call's metadata into a verified Principal, or raises Unauthenticated."""

    def __init__(self, tokens: AccessTokens) -> None:
        self.tokens = tokens

    async def require(self, context: aio.ServicerContext[Any, Any]) -> Principal:
        token = bearer_token(context)
        if token is None:
            raise Unauthenticated("sign in first: no access token", reason="TOKEN_MISSING")
        return self.tokens.verify(token)


def caller_resolver(settings: Settings) -> CallerResolver:
    """What every service's composition root uses to authenticate its callers."""
    return CallerResolver(access_tokens(settings))
