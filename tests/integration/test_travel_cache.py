"""The travel search cache against a real Redis: freshness, the stale window, coalescing."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import pytest_asyncio
from prometheus_client import REGISTRY
from redis.asyncio import Redis

from services.travel.cache import FRESHNESS, Cached, SearchCache, cache_key
from tripsage.travel.v1 import travel_service_pb2 as pb
from tripsage_core.cache import LocalCache, create_redis
from tripsage_core.embedded import free_port

pytestmark = pytest.mark.database


class Down(Exception):
    pass


class Refused(Exception):
    pass


@pytest_asyncio.fixture(loop_scope="session")
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = create_redis(redis_url)
    yield client
    await client.aclose()


def setup(redis: Redis | None) -> tuple[SearchCache, list[float], str]:
    now = [1_000_000.0]
    cache = SearchCache(redis, namespace=f"test-cache-{uuid.uuid4().hex}", clock=lambda: now[0])
    key = cache_key(cache.namespace, "geocode", "sandbox", "server", pb.GeocodeRequest(address="x"))
    return cache, now, key


def answer(name: str) -> pb.GeocodeResponse:
    return pb.GeocodeResponse(results=[pb.GeocodeResult(formatted_address=name)])


async def test_fresh_then_stale_then_gone(redis: Redis) -> None:
    cache, now, key = setup(redis)
    window = FRESHNESS["geocode"]
    calls: list[str] = []

    async def produce() -> pb.GeocodeResponse:
        calls.append("call")
        return answer("Lisbon")

    async def failing() -> pb.GeocodeResponse:
        raise Down("provider down")

    def rescue(exc: BaseException) -> bool:
        return isinstance(exc, Down)

    first = await cache.fetch("geocode", key, pb.GeocodeResponse, produce, rescue=rescue)
    assert not first.cached
    now[0] += window.fresh_seconds - 1
    hit = await cache.fetch("geocode", key, pb.GeocodeResponse, failing, rescue=rescue)
    assert (hit.cached, hit.stale, hit.message) == (True, False, first.message)
    now[0] += 2  # past freshness: the provider is asked; it fails; the entry rescues
    stale = await cache.fetch("geocode", key, pb.GeocodeResponse, failing, rescue=rescue)
    assert (stale.cached, stale.stale) == (True, True)
    assert stale.fetch_time == first.fetch_time

    async def refused() -> pb.GeocodeResponse:
        raise Refused("bad request")

    with pytest.raises(Refused):  # only outages are hidden by stale data
        await cache.fetch("geocode", key, pb.GeocodeResponse, refused, rescue=rescue)
    now[0] += window.stale_seconds
    with pytest.raises(Down):  # too old to serve even as stale
        await cache.fetch("geocode", key, pb.GeocodeResponse, failing, rescue=rescue)
    assert calls == ["call"]


async def test_concurrent_misses_share_one_call_and_its_failure(redis: Redis) -> None:
    cache, _, key = setup(redis)
    calls: list[str] = []
    gate = asyncio.Event()

    async def slow_failure() -> pb.GeocodeResponse:
        calls.append("call")
        await gate.wait()
        raise Down("provider down")

    def coalesced() -> float:
        labels = {"kind": "geocode", "result": "coalesced"}
        return REGISTRY.get_sample_value("tripsage_travel_cache_lookups_total", labels) or 0.0

    before = coalesced()
    tasks = [
        asyncio.create_task(
            cache.fetch("geocode", key, pb.GeocodeResponse, slow_failure, rescue=lambda e: True)
        )
        for _ in range(5)
    ]
    # The provider call stays open until the other four have joined it, however slowly
    # their Redis reads come back on a loaded machine.
    for _ in range(200):
        if coalesced() - before == 4:
            break
        await asyncio.sleep(0.05)
    gate.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert calls == ["call"]
    assert all(isinstance(r, Down) for r in results)


async def test_without_redis_every_fetch_calls_the_provider() -> None:
    unreachable = create_redis(f"redis://127.0.0.1:{free_port()}/0")
    cache, _, key = setup(unreachable)
    calls: list[str] = []

    async def produce() -> pb.GeocodeResponse:
        calls.append("call")
        return answer("Porto")

    for _ in range(2):
        got = await cache.fetch("geocode", key, pb.GeocodeResponse, produce, rescue=lambda e: True)
        assert not got.cached
    assert len(calls) == 2
    assert not cache.available
    await unreachable.aclose()


def with_local_layer(redis: Redis, seconds: float) -> tuple[SearchCache, list[float], str]:
    cache, now, key = setup(redis)
    cache.local = LocalCache(seconds, 8, clock=lambda: now[0])
    return cache, now, key


def provider(calls: list[str], name: str) -> Callable[[], Awaitable[pb.GeocodeResponse]]:
    async def produce() -> pb.GeocodeResponse:
        calls.append(name)
        return answer(name)

    return produce


async def ask(
    cache: SearchCache, key: str, produce: Callable[[], Awaitable[pb.GeocodeResponse]]
) -> Cached[pb.GeocodeResponse]:
    return await cache.fetch("geocode", key, pb.GeocodeResponse, produce, rescue=lambda e: True)


async def test_the_local_layer_answers_again_without_redis_within_its_seconds(
    redis: Redis,
) -> None:
    cache, now, key = with_local_layer(redis, 5)
    calls: list[str] = []
    first = await ask(cache, key, provider(calls, "Porto"))
    await redis.delete(key)  # from here only the local layer can answer
    now[0] += 4.9
    again = await ask(cache, key, provider(calls, "Porto"))
    assert (again.cached, again.message) == (True, first.message)
    assert again.fetch_time == first.fetch_time
    assert calls == ["Porto"]
    now[0] += 0.2  # past the local seconds: Redis is asked, has nothing, so the provider is
    await ask(cache, key, provider(calls, "Porto"))
    assert calls == ["Porto", "Porto"]


async def test_the_local_layer_is_keyed_like_redis_and_never_outlives_freshness(
    redis: Redis,
) -> None:
    cache, now, key = with_local_layer(redis, 10 * FRESHNESS["geocode"].fresh_seconds)
    question = pb.GeocodeRequest(address="x")
    own_key = cache_key(cache.namespace, "geocode", "sandbox", "user:u1:abc", question)
    calls: list[str] = []
    server = await ask(cache, key, provider(calls, "server"))
    own = await ask(cache, own_key, provider(calls, "own"))
    assert server.message != own.message  # another account's key is another entry
    # An entry Redis would call stale is not served from memory either.
    now[0] += FRESHNESS["geocode"].fresh_seconds
    await ask(cache, key, provider(calls, "later"))
    assert calls == ["server", "own", "later"]


async def test_the_local_layer_keeps_nothing_while_redis_is_down() -> None:
    unreachable = create_redis(f"redis://127.0.0.1:{free_port()}/0")
    cache, _, key = with_local_layer(unreachable, 60)
    calls: list[str] = []
    for _ in range(2):
        got = await ask(cache, key, provider(calls, "Porto"))
        assert not got.cached
    assert calls == ["Porto", "Porto"]
    assert len(cache.local or ()) == 0
    await unreachable.aclose()
