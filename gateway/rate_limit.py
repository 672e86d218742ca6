"""Per-caller request limits counted in Redis, so every gateway replica agrees.

A caller is a verified identity when the gateway could verify one (the user
of a valid access token, or an API key auth has resolved; gateway/callers.py),
else its client address: an unverified credential header counts against the
address it came from, so made-up tokens buy no extra requests.

Counting uses a sliding window made of two fixed one-minute windows,
weighted: cheap (two keys per caller) and without the burst a plain fixed
window allows at a window's edge. A check is at most one round trip: a Lua
script (sent once, then called by its SHA) counts and reads the previous
window together, atomically; far from the limit a process counts a small
batch at once and admits it locally (RateLimiter says how). When Redis does not
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
# KEYS: this window's counter, the previous window's; ARGV: how many requests to
# count, the counter's lifetime.
_COUNT = """
local current = redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return {current, redis.call('GET', KEYS[2]) or 0}
"""
# Requests a process may count ahead for one caller: 1 % of the limit, at most 64.
BATCH_SHARE = 100
MAX_BATCH = 64
_MAX_CALLERS = 10_000


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    retry_after: int


@dataclass
class _Allowance:
    """Requests already counted in Redis for a caller and not yet used, in one window."""

    window: int
    left: int
    remaining: int  # the caller's remaining requests as Redis last said


class RateLimiter:
    """Counts in Redis first, then admits: no replica lets a request through uncounted.

    To spare a round trip per request, a process counts a small batch at once
    (``batch``: 1 % of the limit, at most 64; 1 below 200 a minute) while the
    caller is far from the limit, and admits the batch's requests without
    asking again within the same minute. Counted-but-unused requests still
    count, so the error is only ever early refusal: at most ``batch - 1``
    requests per gateway process. Near the limit (remaining under two
    batches) every request is counted on its own, as refused ones are.
    """

    def __init__(self, client: redis.Redis, *, per_minute: int, prefix: str = "ratelimit") -> None:
        self.client = client
        self.per_minute = per_minute
        self.prefix = prefix
        self.batch = max(1, min(MAX_BATCH, per_minute // BATCH_SHARE))
        self._last_warning = 0.0
        self._count = client.register_script(_COUNT)  # EVALSHA, EVAL again if Redis forgot it
        self._allowances: dict[str, _Allowance] = {}

    async def check(self, caller: str, now: float | None = None) -> Decision:
        now = time.time() if now is None else now
        window = int(now // WINDOW_SECONDS)
        local = self._allowances.get(caller)
        if local is not None and local.window == window and local.left > 0:
            local.left -= 1
            local.remaining = max(0, local.remaining - 1)
            return Decision(True, self.per_minute, local.remaining, 0)
        far = local is None or local.window != window or local.remaining >= 2 * self.batch
        batch = self.batch if far else 1
        elapsed = now - window * WINDOW_SECONDS
        current_key = f"{self.prefix}:{caller}:{window}"
        previous_key = f"{self.prefix}:{caller}:{window - 1}"
        try:
            current, previous = await self._count(
                keys=[current_key, previous_key], args=[batch, WINDOW_SECONDS * 2]
            )
        except (RedisError, OSError) as exc:
            if now - self._last_warning > 30:
                self._last_warning = now
                logger.warning("rate limiting skipped: Redis unavailable (%s)", exc)
            return Decision(True, self.per_minute, self.per_minute, 0)
        weight = (WINDOW_SECONDS - elapsed) / WINDOW_SECONDS
        used_before = int(current) - batch + int(previous or 0) * weight
        # How many of the counted requests fit: with a batch of 1, allowed exactly
        # when current + weighted previous <= the limit.
        fits = max(0, min(batch, math.floor(self.per_minute - used_before)))
        remaining = max(0, math.floor(self.per_minute - used_before - fits))
        if len(self._allowances) >= _MAX_CALLERS:
            self._allowances.clear()
        left = max(0, fits - 1)  # this request takes one of those that fit
        self._allowances[caller] = _Allowance(window, left, remaining + left)
        if fits:
            return Decision(True, self.per_minute, remaining + left, 0)
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
