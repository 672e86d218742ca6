"""The revocation list is cached per process and kept current by Redis's pushes
(tripsage_core/revocations.py): checks stop reading Redis, yet a revocation made
by another process is refused within the documented bound (docs/security.md).

Two Revocations objects on one real Valkey stand for two processes (auth writing,
trips checking), each with its own client and connections.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
import redis.asyncio as redis

from tripsage_core.cache import create_redis
from tripsage_core.errors import Unauthenticated
from tripsage_core.identity import Principal
from tripsage_core.revocations import TRUST_SECONDS, Revocations


@pytest_asyncio.fixture
async def clients(redis_url: str) -> AsyncIterator[tuple[redis.Redis, redis.Redis]]:
    writer, reader = create_redis(redis_url), create_redis(redis_url)
    yield writer, reader
    await writer.aclose()
    await reader.aclose()


async def _mget_calls(client: redis.Redis) -> int:
    stats = await client.info("commandstats")
    return int(stats.get("cmdstat_mget", {}).get("calls", 0))


async def _refused_within(checker: Revocations, principal: Principal, bound: float) -> str:
    """The refusal's reason, polling no longer than `bound` seconds (the documented staleness)."""
    deadline = time.monotonic() + bound
    while True:
        try:
            await checker.check(principal)
        except Unauthenticated as refused:
            return str(refused.reason)
        if time.monotonic() > deadline:
            pytest.fail(f"still admitted {bound} s after the revocation")
        await asyncio.sleep(0.01)


async def _live(checker: Revocations) -> None:
    # The feed subscribes in the background after the first check; wait for it to be up.
    for _ in range(200):
        if checker._live:
            return
        await asyncio.sleep(0.01)
    pytest.fail("the invalidation feed never came up")


async def test_repeated_checks_do_not_read_redis_and_revocations_still_arrive(
    clients: tuple[redis.Redis, redis.Redis],
) -> None:
    writer, reader = clients
    auth = Revocations(writer, remember_seconds=60)
    trips = Revocations(reader, remember_seconds=60)
    ana = Principal(user_id=str(uuid.uuid4()), session_id=str(uuid.uuid4()))
    try:
        await trips.check(ana)
        await _live(trips)
        await trips.check(ana)  # cached from here on
        before = await _mget_calls(writer)
        for _ in range(50):
            await trips.check(ana)
        assert await _mget_calls(writer) - before <= 2  # a refresh per TRUST_SECONDS at most

        await auth.disable_user(ana.user_id)
        assert await _refused_within(trips, ana, TRUST_SECONDS) == "USER_DISABLED"
        await auth.enable_user(ana.user_id)
        for _ in range(int(TRUST_SECONDS / 0.01)):
            try:
                await trips.check(ana)
                break
            except Unauthenticated:
                await asyncio.sleep(0.01)
        await trips.check(ana)  # admitted again once re-enabled

        await auth.revoke_sessions([ana.session_id])
        assert await _refused_within(trips, ana, TRUST_SECONDS) == "SESSION_ENDED"
    finally:
        await trips.close()
        await auth.close()


async def test_a_revocation_is_refused_on_the_very_next_call(
    clients: tuple[redis.Redis, redis.Redis],
) -> None:
    """The push is how it arrives at once: a key another client writes directly (no
    Revocations object of this process involved) is refused well inside the bound."""
    writer, reader = clients
    trips = Revocations(reader, remember_seconds=60, trust_seconds=3600)
    key_id = str(uuid.uuid4())
    bot = Principal(user_id=str(uuid.uuid4()), api_key_id=key_id)
    try:
        await trips.check(bot)
        await _live(trips)
        await trips.check(bot)
        await writer.set(f"tripsage:auth:revoked:api-key:{key_id}", b"1", ex=60)
        # With an hour's trust only the push can make this refusal happen, and it does on
        # the very next check: Redis sends the push before its reply to the write, and a
        # check does not trust the cache while the feed holds unread bytes.
        with pytest.raises(Unauthenticated) as refused:
            await trips.check(bot)
        assert refused.value.reason == "API_KEY_REVOKED"
    finally:
        await trips.close()


async def test_without_redis_every_check_fails_rather_than_admitting() -> None:
    nowhere = create_redis("redis://127.0.0.1:1/0")
    trips = Revocations(nowhere, remember_seconds=60)
    try:
        for _ in range(2):
            with pytest.raises((redis.RedisError, OSError)):
                await trips.check(Principal(user_id=str(uuid.uuid4())))
    finally:
        await trips.close()
        await nowhere.aclose()
