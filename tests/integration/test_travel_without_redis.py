"""With Redis down the travel service stays SERVING and searches still work, uncached,
over gRPC and through the gateway.

Travel's Redis (its cache and its view of the shared revocation list) is a port
nothing listens on; tokens are still verified, and travel admits them while the
revocation list cannot be read (see caller_resolver). Auth keeps its Redis so
the test can register users.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import grpc
import httpx
import pytest
import pytest_asyncio
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.travel.app import compose, travel_callers
from tests.support.accounts import Account, register
from tests.support.fake_providers.suite import sandbox_overrides
from tests.support.suite import OPERATOR_HEADERS, RunningSuite, make_settings, wait_serving
from tripsage.travel.v1 import travel_service_pb2 as pb
from tripsage.travel.v1 import travel_service_pb2_grpc as pb_grpc
from tripsage_core.cache import create_redis
from tripsage_core.embedded import free_port
from tripsage_core.grpc_kit.server import GrpcService

pytestmark = pytest.mark.database


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def suite_without_redis(
    database_dsn: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningSuite]:
    settings = make_settings(
        database_dsn,
        redis_url,
        tmp_path_factory.mktemp("no-redis"),
        travel_cache_prefix=f"test-travel-{uuid.uuid4().hex[:10]}",
        **sandbox_overrides(),
    )
    running = RunningSuite(settings)
    try:
        await running.start_service("auth")  # auth keeps its working Redis
        # Only travel's Redis is a port nothing listens on.
        unreachable = create_redis(f"redis://127.0.0.1:{free_port()}/0")
        definition = compose(settings, unreachable, travel_callers(settings, unreachable))
        travel = GrpcService(definition, grace_seconds=1)
        port = await travel.start(0, host="127.0.0.1")
        settings.travel_service_addr = f"127.0.0.1:{port}"
        running.services["travel"] = travel
        await wait_serving(settings.travel_service_addr)
        await running.start_gateway()
        yield running
    finally:
        await running.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def ana(suite_without_redis: RunningSuite) -> Account:
    return await register(suite_without_redis.address("auth"), "ana")


async def test_serving_and_searching_uncached_over_grpc(
    suite_without_redis: RunningSuite, ana: Account
) -> None:
    async with grpc.aio.insecure_channel(suite_without_redis.address("travel")) as channel:
        health = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service="tripsage.travel.v1.TravelService")
        )
        assert health.status == health_pb2.HealthCheckResponse.SERVING
        travel = pb_grpc.TravelServiceStub(channel)
        request = pb.GeocodeRequest(address="Coimbra")
        first = await travel.Geocode(request, metadata=ana.metadata)
        second = await travel.Geocode(request, metadata=ana.metadata)
    assert first.results[0].locality == "Coimbra"
    assert first.source.data_source == pb.DATA_SOURCE_SANDBOX
    assert not first.source.cached
    assert not second.source.cached


async def test_searching_through_the_gateway_without_redis(
    suite_without_redis: RunningSuite, ana: Account
) -> None:
    async with httpx.AsyncClient(base_url=suite_without_redis.gateway_url, timeout=20) as http:
        reply = await http.post(
            "/api/v1/routes:computeTravelTime",
            headers=ana.headers,
            json={"origin": {"address": "Lisbon"}, "destination": {"address": "Sintra"}},
        )
    assert reply.status_code == 200, reply.text
    assert reply.json()["estimated"] is True
    assert reply.json()["source"].get("cached", False) is False


async def test_health_detail_says_the_cache_is_down(suite_without_redis: RunningSuite) -> None:
    async with httpx.AsyncClient(base_url=suite_without_redis.gateway_url, timeout=20) as http:
        detail = (await http.get("/api/health/detailed", headers=OPERATOR_HEADERS)).json()[
            "services"
        ]
    # Travel serves (uncached) and says why it is degraded; the others report theirs.
    assert detail["travel"]["status"] == "SERVING"
    assert detail["travel"]["components"] == {"redis": "NOT_SERVING"}
    assert detail["auth"]["components"] == {"database": "SERVING", "redis": "SERVING"}
