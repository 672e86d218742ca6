"""What operators do with the travel search cache: look at it, empty it.

Entries are `<namespace>:<kind>:<provider>:<account>:<digest>`
(services/travel/cache.py); the hit counts every travel process publishes are
in `<namespace>:stats` (services/travel/cache_stats.py). Nothing else in Redis
(rate limits, sessions' revocations, idempotency records) is touched.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from redis.asyncio import Redis

from services.travel.cache import FRESHNESS
from services.travel.cache_stats import stats_key

KINDS = tuple(FRESHNESS)
_BATCH = 500


@dataclass
class KindStats:
    keys: int = 0
    memory_bytes: int = 0
    lookups: Counter[str] = field(default_factory=Counter)

    @property
    def hit_ratio(self) -> float | None:
        """Answers from the cache (Redis or a process's memory) over all look-ups."""
        hits = self.lookups["hit"] + self.lookups["local"] + self.lookups["coalesced"]
        total = hits + self.lookups["miss"] + self.lookups["stale"] + self.lookups["error"]
        return hits / total if total else None


def _kind_of(key: str, namespace: str) -> str | None:
    rest = key.removeprefix(f"{namespace}:")
    kind = rest.split(":", 1)[0]
    return kind if rest != key and kind in FRESHNESS else None


async def cache_stats(redis: Redis, namespace: str) -> dict[str, KindStats]:
    """Keys, memory and look-ups by content kind (every kind, even empty ones)."""
    stats = {kind: KindStats() for kind in KINDS}
    batch: list[tuple[str, str]] = []

    async def measure() -> None:
        async with redis.pipeline(transaction=False) as pipe:
            for key, _kind in batch:
                pipe.memory_usage(key, samples=0)
            sizes = await pipe.execute()
        for (_key, kind), size in zip(batch, sizes, strict=True):
            stats[kind].keys += 1
            stats[kind].memory_bytes += int(size or 0)
        batch.clear()

    async for raw in redis.scan_iter(match=f"{namespace}:*", count=_BATCH):
        key = raw.decode() if isinstance(raw, bytes) else str(raw)
        kind = _kind_of(key, namespace)
        if kind is not None:
            batch.append((key, kind))
            if len(batch) >= _BATCH:
                await measure()
    if batch:
        await measure()
    for raw_field, raw_count in (await redis.hgetall(stats_key(namespace))).items():
        name = raw_field.decode() if isinstance(raw_field, bytes) else str(raw_field)
        kind, _, result = name.partition(":")
        if kind in stats:
            stats[kind].lookups[result] += int(raw_count)
    return stats


async def clear_cache(redis: Redis, namespace: str, kinds: tuple[str, ...] = ()) -> dict[str, int]:
    """Delete the entries of these kinds (all kinds when empty); returns how many per kind.
    Clearing every kind also resets the hit counts."""
    wanted = set(kinds or KINDS)
    removed = dict.fromkeys(sorted(wanted), 0)
    batch: list[str] = []
    async for raw in redis.scan_iter(match=f"{namespace}:*", count=_BATCH):
        key = raw.decode() if isinstance(raw, bytes) else str(raw)
        kind = _kind_of(key, namespace)
        if kind in wanted:
            batch.append(key)
            removed[kind] += 1
            if len(batch) >= _BATCH:
                await redis.unlink(*batch)
                batch.clear()
    if batch:
        await redis.unlink(*batch)
    if not kinds:
        await redis.delete(stats_key(namespace))
    return removed
