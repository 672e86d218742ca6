"""Counting events per key in fixed windows in Redis, so every replica sees the same count.

Used by auth to slow and then refuse repeated failed sign-ins per account and
per client address. Keys expire with their window; nothing needs cleaning up.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as redis


@dataclass(frozen=True)
class WindowCount:
    count: int
    retry_after_seconds: float


class WindowCounter:
    def __init__(self, client: redis.Redis, *, prefix: str, window_seconds: int) -> None:
        self.redis = client
        self.prefix = prefix
        self.window_seconds = window_seconds

    def _key(self, name: str) -> str:
        return f"{self.prefix}:{name}"

    async def counts(self, names: list[str]) -> list[WindowCount]:
        """The current count of each name and how long until its window ends."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.get(self._key(name))
                pipe.pttl(self._key(name))
            raw = await pipe.execute()
        found: list[WindowCount] = []
        for index in range(len(names)):
            value, ttl_ms = raw[2 * index], raw[2 * index + 1]
            found.append(WindowCount(int(value or 0), max(ttl_ms, 0) / 1000))
        return found

    async def add(self, names: list[str]) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            for name in names:
                pipe.incr(self._key(name))
                # NX: the window starts at the first event, later ones do not extend it.
                pipe.expire(self._key(name), self.window_seconds, nx=True)
            await pipe.execute()

    async def reset(self, name: str) -> None:
        await self.redis.delete(self._key(name))
