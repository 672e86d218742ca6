"""`tripsage cache-stats` and `tripsage clear-cache` (scripts/cache/*.py) on a real Redis."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from redis.asyncio import Redis

from services.travel.cache import SearchCache, cache_key
from services.travel.cache_stats import publish_stats
from tests.support.auth_suite import run_cli
from tripsage.travel.v1 import travel_service_pb2 as pb
from tripsage_core.cache import create_redis

pytestmark = pytest.mark.database


@pytest_asyncio.fixture(loop_scope="session")
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = create_redis(redis_url)
    yield client
    await client.aclose()


def _never_rescue(exc: BaseException) -> bool:
    return False


async def _search(cache: SearchCache, kind: str, query: pb.GeocodeRequest) -> None:
    async def produce() -> pb.GeocodeResponse:
        return pb.GeocodeResponse(results=[pb.GeocodeResult(formatted_address=query.address)])

    key = cache_key(cache.namespace, kind, "sandbox", "server", query)
    await cache.fetch(kind, key, pb.GeocodeResponse, produce, rescue=_never_rescue)


def _rows(stdout: str) -> dict[str, list[str]]:
    return {line.split()[0]: line.split()[1:] for line in stdout.splitlines()[1:] if line.strip()}


async def test_stats_by_type_then_clearing_one_type_then_all(
    redis: Redis, redis_url: str, tmp_path: Path
) -> None:
    prefix = f"test-ops-{uuid.uuid4().hex[:8]}"
    namespace = f"{prefix}:v1"
    await publish_stats(redis, f"{prefix}-earlier")  # what other tests counted goes elsewhere
    cache = SearchCache(redis, namespace=namespace)
    await _search(cache, "flights", pb.GeocodeRequest(address="LIS-OPO"))  # miss
    await _search(cache, "flights", pb.GeocodeRequest(address="LIS-OPO"))  # hit
    await _search(cache, "flights", pb.GeocodeRequest(address="LIS-MAD"))  # miss
    await _search(cache, "geocode", pb.GeocodeRequest(address="Porto"))  # miss
    await publish_stats(redis, namespace)
    await redis.set("ratelimit:someone:1", 3)  # not the cache's: never touched
    env = {
        "ENVIRONMENT": "testing",
        "TRIPSAGE_DATA_DIR": str(tmp_path),
        "REDIS_URL": redis_url,
        "TRAVEL_CACHE_PREFIX": prefix,
    }

    shown = run_cli(env, "cache-stats")
    assert shown.returncode == 0, shown.stderr
    rows = _rows(shown.stdout)
    assert rows["flights"][0] == "2"  # keys
    assert int(rows["flights"][1]) > 0  # memory
    assert rows["flights"][2:] == ["3", "33.3%"]  # look-ups, hit ratio
    assert rows["geocode"][0] == "1"
    assert rows["geocode"][2:] == ["1", "0.0%"]
    assert rows["weather"] == ["0", "0", "0", "-"]

    one = run_cli(env, "clear-cache", "--type", "geocode")
    assert one.returncode == 0, one.stderr
    assert "geocode: 1 entries deleted" in one.stdout
    assert _rows(run_cli(env, "cache-stats").stdout)["flights"][0] == "2"

    everything = run_cli(env, "clear-cache")
    assert everything.returncode == 0, everything.stderr
    assert "deleted 2 cache entries" in everything.stdout
    after = _rows(run_cli(env, "cache-stats").stdout)
    assert after["flights"] == ["0", "0", "0", "-"]  # the hit counts start again
    assert await redis.get("ratelimit:someone:1") == b"3"

    bogus = run_cli(env, "clear-cache", "--type", "hotels")
    assert bogus.returncode == 2
    assert "unknown content type hotels" in bogus.stderr
    no_redis = run_cli({**env, "REDIS_URL": ""}, "cache-stats")
    assert no_redis.returncode == 2
    assert "REDIS_URL is not set" in no_redis.stderr
