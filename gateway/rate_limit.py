"""Request limits by consumer type and route class, counted in Redis so every replica agrees.

A request counts against its consumer's bucket (gateway/consumers.py: an
anonymous caller by client address, a user by user id, an API key by key id,
an administrator by user id), each type with its own limit per minute; a route
of a tighter class (gateway/rate_classes.py: sign-in, chat, search) counts
against that class's bucket for the same consumer as well. A request passes
only when both buckets have room.

Counting uses a sliding window made of two fixed one-minute windows, weighted:
cheap (two keys per bucket) and without the burst a plain fixed window allows
at a window's edge. A check is one round trip: a Lua script (sent once, then
called by its SHA) reads both buckets, admits what fits in both and counts it
in both, atomically. Refused requests are not counted, so the limit is exact.
Far from its limits a process counts a small batch at once and admits it
locally (RateLimiter says how).

When Redis does not answer, each process limits on its own with the same
algorithm in memory (so N replicas admit up to N times the limits), logs a
warning at most once a minute, tries Redis again after ``redis_retry_seconds``,
and the detailed health says the rate limiter is "degraded" (gateway/health.py).

Responses carry the IETF RateLimit-Policy and RateLimit fields
(draft-ietf-httpapi-ratelimit-headers, structured-field syntax): one item per
bucket the request counted against, e.g. ``RateLimit-Policy: "user";q=600;w=60,
"search";q=60;w=60`` and ``RateLimit: "user";r=599;t=42, "search";r=59;t=42``
(``t``: seconds until the current one-minute window ends). A refusal is a 429
with ``Retry-After`` (from the error's RetryInfo).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import grpc
import redis.asyncio as redis
from google.protobuf import duration_pb2
from google.rpc import error_details_pb2
from redis.exceptions import RedisError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.asgi_headers import request_headers
from gateway.callers import GatewayCallers
from gateway.consumers import Consumer, consumer_of
from gateway.errors import GatewayError
from gateway.metrics import GatewayMetrics
from gateway.proxy import error_response
from gateway.rate_classes import RouteClass, rate_class
from gateway.routes import RouteMatch, RouteTable
from tripsage_core.config import Settings
from tripsage_core.errors import ERROR_DOMAIN

logger = logging.getLogger("tripsage.gateway")

WINDOW_SECONDS = 60
EXEMPT_PREFIXES = ("/api/health", "/metrics", "/api/openapi.json", "/api/docs")
POLICY_HEADER = "ratelimit-policy"
STATE_HEADER = "ratelimit"
# KEYS: the consumer bucket's window and previous window, then (optionally) the route
# class bucket's. ARGV: requests wanted, counter lifetime, weight of the previous
# window, the consumer limit, (the class limit). Returns the requests granted and the
# room left in each bucket after them.
_CHECK = """
local wanted = tonumber(ARGV[1])
local weight = tonumber(ARGV[3])
local function room(current, previous, limit)
  local used = tonumber(redis.call('GET', current) or '0')
    + tonumber(redis.call('GET', previous) or '0') * weight
  return math.floor(limit - used)
end
local consumer = room(KEYS[1], KEYS[2], tonumber(ARGV[4]))
local class = consumer
if #KEYS == 4 then class = room(KEYS[3], KEYS[4], tonumber(ARGV[5])) end
local granted = math.max(0, math.min(wanted, consumer, class))
if granted > 0 then
  redis.call('INCRBY', KEYS[1], granted)
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  if #KEYS == 4 then
    redis.call('INCRBY', KEYS[3], granted)
    redis.call('EXPIRE', KEYS[3], ARGV[2])
  end
end
return {granted, consumer - granted, class - granted}
"""
# Requests a process may count ahead for one bucket pair: 1 % of the tighter limit, at
# most 64.
BATCH_SHARE = 100
MAX_BATCH = 64
_MAX_CALLERS = 10_000
WARNING_INTERVAL_SECONDS = 60.0


@dataclass(frozen=True)
class RateLimits:
    """Requests per minute for each consumer type, and for each tighter route class."""

    consumers: Mapping[Consumer, int]
    route_classes: Mapping[RouteClass, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        missing = [str(consumer) for consumer in Consumer if consumer not in self.consumers]
        if missing:
            raise ValueError(f"rate limits: no limit for {', '.join(missing)}")
        if any(limit < 1 for limit in (*self.consumers.values(), *self.route_classes.values())):
            raise ValueError("rate limits: every limit is at least 1 a minute")

    @classmethod
    def uniform(cls, per_minute: int) -> RateLimits:
        """The same limit for every consumer type and no route-class limits."""
        return cls({consumer: per_minute for consumer in Consumer})

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimits:
        return cls(
            {
                Consumer.ANONYMOUS: settings.rate_limit_anonymous_per_minute,
                Consumer.USER: settings.user_rate_limit_per_minute,
                Consumer.API_KEY: settings.rate_limit_api_key_per_minute,
                Consumer.ADMIN: settings.rate_limit_admin_per_minute,
            },
            {
                RouteClass.SIGN_IN: settings.rate_limit_sign_in_per_minute,
                RouteClass.CHAT: settings.rate_limit_chat_per_minute,
                RouteClass.SEARCH: settings.rate_limit_search_per_minute,
            },
        )


@dataclass(frozen=True)
class PolicyState:
    """One bucket a request counted against: its name, quota and what is left."""

    name: str
    quota: int
    remaining: int


@dataclass(frozen=True)
class Decision:
    allowed: bool
    policies: tuple[PolicyState, ...]
    reset: int  # seconds until the current window ends
    retry_after: int = 0

    @property
    def limiting(self) -> PolicyState:
        """The bucket with the least room (the one that refused, on a refusal)."""
        return min(self.policies, key=lambda policy: policy.remaining)

    @property
    def limit(self) -> int:
        return self.limiting.quota

    @property
    def remaining(self) -> int:
        return self.limiting.remaining


@dataclass
class _Allowance:
    """Requests already counted for a bucket pair and not yet used, in one window."""

    window: int
    left: int
    rooms: tuple[int, int]  # each bucket's room as last counted, less what was used since


class _LocalCounts:
    """The Lua script's algorithm in one process's memory, for when Redis is away."""

    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, int, int]] = {}  # key -> window, current, previous

    def take(
        self, buckets: list[tuple[str, int]], window: int, weight: float, wanted: int
    ) -> tuple[int, list[int]]:
        rooms = [self._room(key, limit, window, weight) for key, limit in buckets]
        granted = max(0, min(wanted, *rooms))
        if granted:
            for key, _ in buckets:
                current, previous = self._window(key, window)
                self._counts[key] = (window, current + granted, previous)
        if len(self._counts) > _MAX_CALLERS:
            self._counts = {k: v for k, v in self._counts.items() if v[0] >= window - 1}
            if len(self._counts) > _MAX_CALLERS:
                self._counts.clear()
        return granted, [room - granted for room in rooms]

    def _room(self, key: str, limit: int, window: int, weight: float) -> int:
        current, previous = self._window(key, window)
        return math.floor(limit - current - previous * weight)

    def _window(self, key: str, window: int) -> tuple[int, int]:
        found = self._counts.get(key)
        if found is None or found[0] < window - 1:
            return 0, 0
        if found[0] == window - 1:
            return 0, found[1]
        return found[1], found[2]


class RateLimiter:
    """Counts first (in Redis, else in memory), then admits: no request passes uncounted.

    To spare a round trip per request, a process counts a small batch at once
    (``batch_for``: 1 % of the tighter limit, at most 64; 1 below 200 a minute)
    while the buckets are far from their limits, and admits the batch's requests
    without asking again within the same minute. Counted-but-unused requests
    still count, so the error is only ever early refusal: at most ``batch - 1``
    requests per gateway process. Near a limit (room under two batches) every
    request is counted on its own.
    """

    def __init__(
        self,
        client: redis.Redis | None,
        limits: RateLimits | None = None,
        *,
        per_minute: int | None = None,
        prefix: str = "ratelimit",
        redis_retry_seconds: float = 5.0,
    ) -> None:
        if limits is None:
            if per_minute is None:
                raise ValueError("RateLimiter needs limits or per_minute")
            limits = RateLimits.uniform(per_minute)
        self.client = client
        self.limits = limits
        self.prefix = prefix
        self.redis_retry_seconds = redis_retry_seconds
        self._check = client.register_script(_CHECK) if client is not None else None
        self._local = _LocalCounts()
        self._allowances: dict[tuple[str, RouteClass], _Allowance] = {}
        self._redis_error: str | None = None
        self._retry_redis_at = 0.0
        self._last_warning = -math.inf

    def batch_for(self, consumer: Consumer, route_class: RouteClass) -> int:
        limits = [self.limits.consumers[consumer]]
        if route_class in self.limits.route_classes:
            limits.append(self.limits.route_classes[route_class])
        return max(1, min(MAX_BATCH, min(limits) // BATCH_SHARE))

    @property
    def degraded(self) -> bool:
        """Redis is configured but did not answer: limits are per process for now."""
        return self._redis_error is not None

    async def check(
        self,
        consumer: Consumer,
        caller: str,
        route_class: RouteClass = RouteClass.GENERAL,
        now: float | None = None,
    ) -> Decision:
        """Count one request of ``caller`` (its bucket id, e.g. ``user:<id>``)."""
        now = time.time() if now is None else now
        window = int(now // WINDOW_SECONDS)
        elapsed = now - window * WINDOW_SECONDS
        reset = max(1, math.ceil(WINDOW_SECONDS - elapsed))
        names = [str(consumer)]
        limits = [self.limits.consumers[consumer]]
        class_limit = self.limits.route_classes.get(route_class)
        if class_limit is not None:
            names.append(str(route_class))
            limits.append(class_limit)

        local = self._allowances.get((caller, route_class))
        if local is not None and local.window == window and local.left > 0:
            local.left -= 1
            local.rooms = (max(0, local.rooms[0] - 1), max(0, local.rooms[1] - 1))
            return self._decision(True, names, limits, local.rooms, reset)

        batch = self.batch_for(consumer, route_class)
        far = local is None or local.window != window or min(local.rooms) >= 2 * batch
        wanted = batch if far else 1
        weight = (WINDOW_SECONDS - elapsed) / WINDOW_SECONDS
        # A hash tag keeps a caller's keys in one Redis Cluster slot, as the script needs.
        base = f"{self.prefix}:{{{caller}}}"
        buckets = [(f"{base}:{window}", limits[0]), (f"{base}:{window - 1}", limits[0])]
        if class_limit is not None:
            buckets += [
                (f"{base}:{route_class}:{window}", class_limit),
                (f"{base}:{route_class}:{window - 1}", class_limit),
            ]
        granted, rooms = await self._take(buckets, window, weight, wanted)

        if len(self._allowances) >= _MAX_CALLERS:
            self._allowances.clear()
        left = max(0, granted - 1)  # this request takes one of those granted
        both = (rooms[0], rooms[-1])
        self._allowances[(caller, route_class)] = _Allowance(
            window, left, (both[0] + left, both[1] + left)
        )
        if granted:
            return self._decision(True, names, limits, (both[0] + left, both[1] + left), reset)
        return self._decision(False, names, limits, both, reset, retry_after=reset)

    async def _take(
        self, buckets: list[tuple[str, int]], window: int, weight: float, wanted: int
    ) -> tuple[int, list[int]]:
        if self._check is not None and time.monotonic() >= self._retry_redis_at:
            keys = [key for key, _ in buckets]
            args: list[Any] = [wanted, WINDOW_SECONDS * 2, repr(weight), buckets[0][1]]
            if len(buckets) == 4:
                args.append(buckets[2][1])
            try:
                granted, consumer_room, class_room = await self._check(keys=keys, args=args)
            except (RedisError, OSError) as exc:
                self._redis_failed(exc)
            else:
                self._redis_answered()
                return int(granted), [int(consumer_room), int(class_room)]
        own = [buckets[0], buckets[2]] if len(buckets) == 4 else [buckets[0]]
        counted = [(key.rsplit(":", 1)[0], limit) for key, limit in own]
        granted, rooms = self._local.take(counted, window, weight, wanted)
        return granted, rooms

    def _redis_failed(self, exc: BaseException) -> None:
        self._redis_error = f"{type(exc).__name__}: {exc}"
        self._retry_redis_at = time.monotonic() + self.redis_retry_seconds
        if time.monotonic() - self._last_warning >= WARNING_INTERVAL_SECONDS:
            self._last_warning = time.monotonic()
            logger.warning("rate limits are per process: Redis unavailable (%s)", self._redis_error)

    def _redis_answered(self) -> None:
        if self._redis_error is not None:
            self._redis_error = None
            logger.info("rate limits are shared again: Redis answers")

    async def health(self) -> dict[str, Any]:
        """The limiter's state for the detailed health; asks Redis once (PING)."""
        if self.client is None:
            return {"status": "OK", "backend": "memory"}
        try:
            await self.client.ping()
        except (RedisError, OSError) as exc:
            self._redis_failed(exc)
        else:
            self._redis_answered()
            self._retry_redis_at = 0.0
        if self._redis_error is not None:
            return {"status": "degraded", "backend": "memory", "error": self._redis_error}
        return {"status": "OK", "backend": "redis"}

    @staticmethod
    def _decision(
        allowed: bool,
        names: list[str],
        limits: list[int],
        rooms: tuple[int, int],
        reset: int,
        retry_after: int = 0,
    ) -> Decision:
        policies = tuple(
            PolicyState(name, limit, max(0, room))
            for name, limit, room in zip(names, limits, rooms, strict=False)
        )
        return Decision(allowed, policies, reset, retry_after)


def address_key(scope: Scope) -> str:
    client = scope.get("client")
    return f"addr:{client[0] if client else 'unknown'}"


def rate_limit_headers(decision: Decision) -> list[tuple[bytes, bytes]]:
    """The RateLimit-Policy and RateLimit fields (structured-field lists) of a decision."""
    policy = ", ".join(f'"{p.name}";q={p.quota};w={WINDOW_SECONDS}' for p in decision.policies)
    state = ", ".join(f'"{p.name}";r={p.remaining};t={decision.reset}' for p in decision.policies)
    return [(POLICY_HEADER.encode(), policy.encode()), (STATE_HEADER.encode(), state.encode())]


def _refusal(decision: Decision) -> GatewayError:
    delay = duration_pb2.Duration(seconds=decision.retry_after)
    limiting = decision.limiting
    return GatewayError(
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        f"rate limit exceeded: {limiting.quota} {limiting.name} requests per minute; retry "
        f"in {decision.retry_after}s",
        details=[
            error_details_pb2.ErrorInfo(
                reason="RATE_LIMITED",
                domain=ERROR_DOMAIN,
                metadata={"policy": limiting.name, "quota": str(limiting.quota)},
            ),
            error_details_pb2.RetryInfo(retry_delay=delay),
        ],  # RetryInfo also becomes the Retry-After header
    )


class RateLimitMiddleware:
    """Pure ASGI, so streamed responses pass through untouched."""

    def __init__(
        self,
        app: ASGIApp,
        limiter: RateLimiter,
        callers: GatewayCallers,
        table: RouteTable | None = None,
        metrics: GatewayMetrics | None = None,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.limiter = limiter
        self.callers = callers
        self.table = table
        # Most requests are general: matching them against the few tighter-class
        # bindings first spares the full match (done only when one of those matches).
        self._tight = RouteTable(
            binding
            for binding in (table.bindings if table is not None else ())
            if rate_class(binding.method.full_name) is not RouteClass.GENERAL
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope.get("path", "")).startswith(EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        headers = request_headers(scope)
        consumer = consumer_of(scope, self.callers)
        decision = await self.limiter.check(
            consumer, self._bucket(consumer, headers, scope), self._route_class(scope)
        )
        fields = rate_limit_headers(decision)
        if not decision.allowed:
            if self.metrics is not None:
                self.metrics.rate_limit_refusals.labels(str(consumer), decision.limiting.name).inc()
            response = error_response(_refusal(decision).to_response())
            response.raw_headers.extend(fields)
            await response(scope, receive, send)
            return
        unknown_key = not headers.get("authorization") and headers.get("x-api-key")
        if consumer is Consumer.ANONYMOUS and unknown_key:
            # Counted against the address above; once auth has resolved the key, the
            # key's later requests count against a bucket of its own.
            await self.callers.learn_api_key(headers)

        async def send_with_fields(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *fields]
            await send(message)

        await self.app(scope, receive, send_with_fields)

    def _route_class(self, scope: Scope) -> RouteClass:
        if self.table is None:
            return RouteClass.GENERAL
        raw = scope.get("raw_path")
        path = raw.decode("latin-1").split("?", 1)[0] if raw else str(scope.get("path", ""))
        method = str(scope.get("method", ""))
        if not isinstance(self._tight.match(method, path), RouteMatch):
            return RouteClass.GENERAL
        found = self.table.match(method, path)  # the binding the proxy will call
        if isinstance(found, RouteMatch):
            return rate_class(found.binding.method.full_name)
        return RouteClass.GENERAL

    def _bucket(self, consumer: Consumer, headers: Mapping[str, str], scope: Scope) -> str:
        if consumer in (Consumer.USER, Consumer.ADMIN):
            user = self.callers.user(headers)
            if user is not None:
                return f"{consumer}:{user.user_id}"
        elif consumer is Consumer.API_KEY:
            key_id = self.callers.known_api_key(headers)
            if key_id is not None:
                return f"key:{key_id}"
        return address_key(scope)
