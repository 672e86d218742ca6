"""The Redis (or Valkey) client every service shares: cache, rate limits, idempotency."""

from __future__ import annotations

import redis.asyncio as redis
from redis.exceptions import RedisError


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
