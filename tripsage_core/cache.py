"""The Redis (or Valkey) client every service shares (cache, rate limits, sign-in limits,
revocations), and the small in-process cache that fronts some of its reads."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING

import redis.asyncio as redis
from redis.exceptions import RedisError

from tripsage_core.upstash import UpstashRedis

if TYPE_CHECKING:
    from tripsage_core.config import Settings


def redis_from_settings(settings: Settings) -> redis.Redis | None:
    """The client these settings name: REDIS_URL's (RESP), else Upstash's REST API
    (UPSTASH_REDIS_REST_URL and _TOKEN), else None (no Redis configured)."""
    if settings.redis_url is not None:
        return create_redis(settings.redis_url.get_secret_value())
    url, token = settings.upstash_redis_rest_url, settings.upstash_redis_rest_token
    if url and token is not None:
        return UpstashRedis(url, token.get_secret_value())
    return None


def redis_configured(settings: Settings) -> bool:
    return settings.redis_url is not None or settings.upstash_redis_rest_url is not None


def pushes_invalidations(client: redis.Redis) -> bool:
    """Whether the client can hold a connection for CLIENT TRACKING pushes (not over REST)."""
    return not isinstance(client, UpstashRedis)


def create_redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(
        url,
        decode_responses=False,
        socket_timeout=2,
        socket_connect_timeout=2,
        health_check_interval=30,
    )


async def ping(client: redis.Redis) -> bool:
    try:
        return bool(await client.ping())
    except (RedisError, OSError):
        return False


class LocalCache[K: Hashable, V]:
    """At most `max_entries` values, each kept `ttl_seconds` after it was stored; when full,
    the oldest stored goes first. One process's memory only: what it holds may be up to
    `ttl_seconds` behind the source, so each user says how stale is acceptable. A ttl of 0
    keeps nothing.

    Written here rather than taken from cachetools: twenty lines, a monotonic clock the
    tests can drive, and `None` as a value that can be cached (a user without a key)."""

    def __init__(
        self,
        ttl_seconds: float,
        max_entries: int,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self.clock = clock
        self._entries: dict[K, tuple[float, V]] = {}  # insertion order: oldest first

    def lookup(self, key: K) -> tuple[bool, V | None]:
        """(True, value) while an entry is fresh, else (False, None)."""
        entry = self._entries.get(key)
        if entry is None:
            return False, None
        if self.clock() >= entry[0]:
            del self._entries[key]
            return False, None
        return True, entry[1]

    def store(self, key: K, value: V) -> None:
        if self.ttl_seconds <= 0:
            return
        self._entries.pop(key, None)
        while len(self._entries) >= self.max_entries:
            del self._entries[next(iter(self._entries))]
        self._entries[key] = (self.clock() + self.ttl_seconds, value)

    def forget(self, key: K) -> None:
        self._entries.pop(key, None)

    def __len__(self) -> int:
        return len(self._entries)
