"""Cache hit counts shared through Redis, so operators see every replica's hit ratio.

Each travel process counts its look-ups in Prometheus (services/travel/metrics.py)
at no extra cost on the search path; every STATS_INTERVAL_SECONDS it adds what
changed since the last flush to one Redis hash, `<namespace>:stats`, fields
`<kind>:<result>` (`tripsage cache-stats` reads it). When Redis is away the
deltas wait for the next flush. The counts are per process, so a process
publishes them once however many travel services it runs (tests run several).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.travel.metrics import CACHE_LOOKUPS

logger = logging.getLogger("tripsage.travel.cache")

STATS_INTERVAL_SECONDS = 10.0
_published: dict[str, float] = {}  # field -> count already added to Redis, per process
_lock = asyncio.Lock()


def stats_key(namespace: str) -> str:
    return f"{namespace}:stats"


def _counts() -> dict[str, float]:
    counts: dict[str, float] = {}
    for metric in CACHE_LOOKUPS.collect():
        for sample in metric.samples:
            if sample.name.endswith("_total"):
                counts[f"{sample.labels['kind']}:{sample.labels['result']}"] = sample.value
    return counts


async def publish_stats(redis: Redis, namespace: str) -> Mapping[str, int]:
    """Add this process's new look-ups to Redis; returns what was added."""
    async with _lock:
        deltas = {
            field: int(count - _published.get(field, 0))
            for field, count in _counts().items()
            if int(count - _published.get(field, 0)) > 0
        }
        if not deltas:
            return {}
        try:
            async with redis.pipeline(transaction=False) as pipe:
                for field, delta in deltas.items():
                    pipe.hincrby(stats_key(namespace), field, delta)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            logger.debug("cache statistics not published: %s", exc)
            return {}
        for field, delta in deltas.items():
            _published[field] = _published.get(field, 0) + delta
        return deltas


async def publish_forever(redis: Redis, namespace: str, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        await publish_stats(redis, namespace)
