"""The search cache: Redis entries per content kind with their own freshness, shared by replicas.

An entry is keyed on the kind, the provider, the provider account (sandbox,
the server's key, or one user's own key) and a digest of the normalised query,
so equal queries hit and one user's BYOK results never reach another user.
Entries outlive their freshness (`stale_seconds`) so that when the provider is
down a recent answer can still be served, marked stale. Identical concurrent
look-ups in one process share one provider call. When Redis is down the cache
steps aside: searches run uncached and the outage is logged once.

In front of Redis, an optional in-process layer (TRAVEL_LOCAL_CACHE_SECONDS, bounded
in entries) answers the same key again without a Redis round trip: identical
searches in a burst cost no I/O. It holds only what Redis holds too (never while
Redis is down), under the same key, so it is exactly as partitioned per provider
account; an entry there is at most that many seconds older than Redis's view and
never served past its kind's freshness.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import struct
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar, cast

from google.protobuf.message import DecodeError, Message
from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.travel.metrics import cache_lookup
from tripsage_core.cache import LocalCache
from tripsage_core.config import Settings

logger = logging.getLogger("tripsage.travel.cache")

M = TypeVar("M", bound=Message)
_HEADER = struct.Struct("!d")  # the fetch time (epoch seconds) before the message bytes


@dataclass(frozen=True)
class Freshness:
    fresh_seconds: float
    stale_seconds: float  # how long past freshness an entry may still rescue an outage


# Per content kind. Prices move fast; places and geocoding barely move.
FRESHNESS: dict[str, Freshness] = {
    "flights": Freshness(300, 3600),
    "stays": Freshness(600, 3600),
    "stay": Freshness(600, 3600),
    "weather": Freshness(600, 6 * 3600),
    "places": Freshness(86400, 7 * 86400),
    "place": Freshness(86400, 7 * 86400),
    "geocode": Freshness(86400, 7 * 86400),
    "reverse_geocode": Freshness(86400, 7 * 86400),
    "travel_time": Freshness(3600, 86400),
}


@dataclass(frozen=True)
class Cached[T: Message]:
    message: T
    fetch_time: float
    cached: bool
    stale: bool


def cache_namespace(settings: Settings) -> str:
    """Where this deployment's search cache lives in Redis (TRAVEL_CACHE_PREFIX)."""
    return f"{settings.travel_cache_prefix}:v1"


def cache_key(namespace: str, kind: str, provider: str, partition: str, query: Message) -> str:
    digest = hashlib.sha256(query.SerializeToString(deterministic=True)).hexdigest()[:32]
    return f"{namespace}:{kind}:{provider}:{partition}:{digest}"


class SearchCache:
    def __init__(
        self,
        redis: Redis | None,
        *,
        namespace: str = "tripsage:travel:v1",
        clock: Callable[[], float] = time.time,
        local: LocalCache[str, Cached[Message]] | None = None,
    ) -> None:
        self.redis = redis
        self.namespace = namespace
        self.clock = clock
        self.available = redis is not None
        self.local = local
        self._inflight: dict[str, asyncio.Future[Cached[Message]]] = {}

    async def fetch(
        self,
        kind: str,
        key: str,
        message_type: type[M],
        produce: Callable[[], Awaitable[M]],
        *,
        rescue: Callable[[BaseException], bool],
    ) -> Cached[M]:
        """A fresh cached answer, else produce() (shared by concurrent callers), else stale.

        rescue(error) says whether produce()'s error is one a stale entry may hide.
        """
        freshness = FRESHNESS[kind]
        if self.local is not None:
            known, remembered = self.local.lookup(key)
            if known and remembered is not None:
                if self.clock() - remembered.fetch_time < freshness.fresh_seconds:
                    cache_lookup(kind, "local").inc()
                    return cast(Cached[M], remembered)
                self.local.forget(key)
        entry = await self._read(key, message_type)
        now = self.clock()
        if entry is not None and now - entry.fetch_time < freshness.fresh_seconds:
            cache_lookup(kind, "hit").inc()
            self._remember(key, entry)
            return entry
        running = self._inflight.get(key)
        if running is not None:
            cache_lookup(kind, "coalesced").inc()
            return cast(Cached[M], await asyncio.shield(running))
        cache_lookup(kind, "miss").inc()
        future: asyncio.Future[Cached[Message]] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            fresh: Cached[M] = Cached(await produce(), self.clock(), cached=False, stale=False)
        except BaseException as exc:
            usable = (
                entry is not None
                and rescue(exc)
                and now - entry.fetch_time < freshness.fresh_seconds + freshness.stale_seconds
            )
            if usable:
                assert entry is not None
                cache_lookup(kind, "stale").inc()
                logger.warning("serving a stale %s answer: %s", kind, exc)
                result: Cached[M] = Cached(entry.message, entry.fetch_time, cached=True, stale=True)
                future.set_result(cast(Cached[Message], result))
                return result
            future.set_exception(exc)
            future.exception()  # retrieved here so an unawaited future does not warn
            raise
        finally:
            self._inflight.pop(key, None)
        future.set_result(cast(Cached[Message], fresh))
        await self._write(key, fresh, freshness)
        self._remember(key, Cached(fresh.message, fresh.fetch_time, cached=True, stale=False))
        return fresh

    def _remember(self, key: str, entry: Cached[M]) -> None:
        """Keep an entry Redis holds in the local layer (not while Redis is down, when
        searches are documented to run uncached)."""
        if self.local is not None and self.available:
            self.local.store(key, cast(Cached[Message], entry))

    async def _read(self, key: str, message_type: type[M]) -> Cached[M] | None:
        if self.redis is None:
            return None
        try:
            raw = await self.redis.get(key)
        except (RedisError, OSError) as exc:
            self._mark_down(exc)
            return None
        self._mark_up()
        if not isinstance(raw, bytes) or len(raw) < _HEADER.size:
            return None
        (fetched,) = _HEADER.unpack_from(raw)
        message = message_type()
        try:
            message.ParseFromString(raw[_HEADER.size :])
        except DecodeError:
            return None
        return Cached(message, fetched, cached=True, stale=False)

    async def _write(self, key: str, entry: Cached[M], freshness: Freshness) -> None:
        if self.redis is None:
            return
        payload = _HEADER.pack(entry.fetch_time) + entry.message.SerializeToString()
        ttl = int(freshness.fresh_seconds + freshness.stale_seconds)
        try:
            await self.redis.set(key, payload, ex=ttl)
        except (RedisError, OSError) as exc:
            self._mark_down(exc)
            return
        self._mark_up()

    def _mark_down(self, exc: BaseException) -> None:
        if self.available:
            logger.warning("Redis is unreachable; searching uncached until it returns: %s", exc)
        self.available = False

    def _mark_up(self) -> None:
        if not self.available:
            logger.info("Redis is back; searches are cached again")
        self.available = True
