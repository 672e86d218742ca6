"""Counting events per key in fixed windows in Redis, so every replica sees the same count.

Used by auth to limit sign-in guesses and password-reset requests per account
and per client address. An event is counted before the work it guards (`hit`:
INCR, EXPIRE and PTTL in one MULTI, one round trip), so concurrent attempts
each see their own count and none slips past the limit. Keys expire with their
window; nothing needs cleaning up.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as redis

# DECR only a live counter: a give-back after the window ended must not leave
# a negative count without an expiry.
_GIVE_BACK = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.call('DECR', KEYS[1])
end
return 0
"""


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

    async def hit(self, names: list[str]) -> list[WindowCount]:
        """Counts one event under each name; the counts including it and the time left."""
        async with self.redis.pipeline(transaction=True) as pipe:
            for name in names:
                pipe.incr(self._key(name))
                # NX: the window starts at the first event, later ones do not extend it.
                pipe.expire(self._key(name), self.window_seconds, nx=True)
                pipe.pttl(self._key(name))
            raw = await pipe.execute()
        return [
            WindowCount(int(raw[3 * index]), max(int(raw[3 * index + 2]), 0) / 1000)
            for index in range(len(names))
        ]

    async def give_back(self, name: str) -> None:
        """Uncounts one event (one that turned out not to count, e.g. a sign-in that succeeded)."""
        await self.redis.eval(_GIVE_BACK, 1, self._key(name))

    async def reset(self, name: str) -> None:
        await self.redis.delete(self._key(name))
