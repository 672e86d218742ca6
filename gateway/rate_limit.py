"""Per-caller request limits counted in Redis, so every gateway replica agrees.

A caller is a verified identity when the gateway could verify one (the user
of a valid access token, or an API key auth has resolved; gateway/callers.py),
else its client address: an unverified credential header counts against the
address it came from, so made-up tokens buy no extra requests.

Counting uses a sliding window made of two fixed one-minute windows,
weighted: cheap (two keys per caller) and without the burst a plain fixed
window allows at a window's edge. Each check is one round trip: a Lua script
(sent once, then called by its SHA) counts the request and reads the previous
window together, atomically. When Redis does not
answer, requests pass (and it is logged): rate limits must not take the API
down with them.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import grpc
import redis.asyncio as redis
from google.protobuf import duration_pb2
from google.rpc import error_details_pb2
from redis.exceptions import RedisError
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.callers import GatewayCallers
from gateway.errors import GatewayError
from gateway.proxy import error_response
from tripsage_core.errors import ERROR_DOMAIN

logger = logging.getLogger("tripsage.gateway")

WINDOW_SECONDS = 60
EXEMPT_PREFIXES = ("/api/health", "/metrics", "/api/openapi.json")
# KEYS: this window's counter, the previous window's; ARGV: the counter's lifetime.
_COUNT = """
local current = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[1])
return {current, redis.call('GET', KEYS[2]) or 0}
"""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    retry_after: int


class RateLimiter:
    def __init__(self, client: redis.Redis, *, per_minute: int, prefix: str = "ratelimit") -> None:
        self.client = client
        self.per_minute = per_minute
        self.prefix = prefix
        self._last_warning = 0.0
        self._count = client.register_script(_COUNT)  # EVALSHA, EVAL again if Redis forgot it

    async def check(self, caller: str, now: float | None = None) -> Decision:
        now = time.time() if now is None else now
        window = int(now // WINDOW_SECONDS)
        elapsed = now - window * WINDOW_SECONDS
        current_key = f"{self.prefix}:{caller}:{window}"
        previous_key = f"{self.prefix}:{caller}:{window - 1}"
        try:
            current, previous = await self._count(
                keys=[current_key, previous_key], args=[WINDOW_SECONDS * 2]
            )
        except (RedisError, OSError) as exc:
            if now - self._last_warning > 30:
                self._last_warning = now
                logger.warning("rate limiting skipped: Redis unavailable (%s)", exc)
            return Decision(True, self.per_minute, self.per_minute, 0)
        weight = (WINDOW_SECONDS - elapsed) / WINDOW_SECONDS
        used = int(current) + int(previous or 0) * weight
        remaining = max(0, math.floor(self.per_minute - used))
        if used <= self.per_minute:
            return Decision(True, self.per_minute, remaining, 0)
        return Decision(False, self.per_minute, 0, max(1, math.ceil(WINDOW_SECONDS - elapsed)))


def address_key(scope: Scope) -> str:
    client = scope.get("client")
    return f"addr:{client[0] if client else 'unknown'}"


def _refusal(decision: Decision) -> GatewayError:
    delay = duration_pb2.Duration(seconds=decision.retry_after)
    return GatewayError(
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        f"rate limit exceeded: {decision.limit} requests per minute; retry in "
        f"{decision.retry_after}s",
        details=[
            error_details_pb2.ErrorInfo(reason="RATE_LIMITED", domain=ERROR_DOMAIN),
            error_details_pb2.RetryInfo(retry_delay=delay),
        ],  # RetryInfo also becomes the Retry-After header
    )


class RateLimitMiddleware:
    """Pure ASGI, so streamed responses pass through untouched."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter, callers: GatewayCallers) -> None:
        self.app = app
        self.limiter = limiter
        self.callers = callers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope.get("path", "")).startswith(EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        decision = await self.limiter.check(self._bucket(headers, scope))
        if not decision.allowed:
            response = error_response(_refusal(decision).to_response())
            await response(scope, receive, send)
            return
        if (
            not headers.get("authorization")
            and headers.get("x-api-key")
            and self.callers.known_api_key(headers) is None
        ):
            # Counted against the address above; once auth has resolved the key, the
            # key's later requests count against a bucket of its own.
            await self.callers.learn_api_key(headers)
        await self.app(scope, receive, send)

    def _bucket(self, headers: Headers, scope: Scope) -> str:
        if headers.get("authorization"):  # services, too, take the bearer token first
            user = self.callers.user(headers)
            return f"user:{user.user_id}" if user is not None else address_key(scope)
        key_id = self.callers.known_api_key(headers)
        return f"key:{key_id}" if key_id is not None else address_key(scope)
