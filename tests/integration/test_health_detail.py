"""The gateway's detailed health carries each service's own figures (Diagnostics/Describe)."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from pathlib import Path

import grpc
import httpx
import pytest
from google.protobuf import empty_pb2, struct_pb2

from tests.support.accounts import register
from tests.support.suite import OPERATOR_HEADERS, RunningSuite, make_settings
from tripsage.travel.v1 import travel_service_pb2 as travel_pb
from tripsage.travel.v1 import travel_service_pb2_grpc as travel_grpc
from tripsage_core.circuit_breaker import CircuitBreaker
from tripsage_core.database import Database
from tripsage_core.embedded import free_port
from tripsage_core.grpc_kit.diagnostics import DESCRIBE_METHOD, package_version
from tripsage_core.grpc_kit.tls import channel_credentials, open_channel

pytestmark = pytest.mark.database


async def _detailed(suite: RunningSuite) -> dict[str, dict[str, object]]:
    async with httpx.AsyncClient(base_url=suite.gateway_url) as client:
        response = await client.get("/api/health/detailed", headers=OPERATOR_HEADERS)
    assert response.status_code == 200, response.text
    services: dict[str, dict[str, object]] = response.json()["services"]
    return services


async def test_each_service_reports_version_uptime_and_dependencies(suite: RunningSuite) -> None:
    services = await _detailed(suite)
    assert set(services) == {"auth", "trips", "travel", "assistant"}
    for name, body in services.items():
        assert body["status"] == "SERVING", name
        assert body["version"] == package_version(), name
        assert isinstance(body["uptimeSeconds"], int | float), name
        assert body["uptimeSeconds"] >= 0, name
    assert isinstance(services["travel"]["redisLatencyMs"], int | float)
    for name in ("auth", "trips", "assistant"):
        body = services[name]
        assert isinstance(body["postgresLatencyMs"], int | float), (name, body)
        assert isinstance(body["redisLatencyMs"], int | float), (name, body)
        pool = body["pool"]
        assert isinstance(pool, dict), (name, body)
        assert 1 <= pool["size"] <= pool["maxSize"], (name, pool)
        assert 0 <= pool["inUse"] <= pool["size"], (name, pool)
        assert pool["waiting"] >= 0, (name, pool)


async def test_pool_counts_the_callers_waiting_for_a_connection(database_dsn: str) -> None:
    database = Database(database_dsn, max_size=1)
    await database.connect()
    try:
        async with database.pool.acquire():
            assert database.pool_use() == {"size": 1, "inUse": 1, "maxSize": 1, "waiting": 0}
            queued = [asyncio.create_task(database.pool.fetchval("SELECT 1")) for _ in range(2)]
            async with asyncio.timeout(30):  # generous: a broken count fails, not hangs
                while (database.pool_use() or {}).get("waiting") != 2:
                    await asyncio.sleep(0.01)
        assert await asyncio.gather(*queued) == [1, 1]
        assert database.pool_use() == {"size": 1, "inUse": 0, "maxSize": 1, "waiting": 0}
    finally:
        await database.close()


async def test_modes_say_sandbox_providers_and_offline_model(suite: RunningSuite) -> None:
    services = await _detailed(suite)
    # The test settings carry no provider or OpenAI keys.
    assert services["travel"]["modes"] == {
        "duffel": "sandbox",
        "google_maps": "sandbox",
        "openweathermap": "sandbox",
    }
    assert services["assistant"]["modes"] == {"model": "offline"}


async def test_describe_is_for_services_only(suite: RunningSuite) -> None:
    async with open_channel(suite.address("trips"), channel_credentials(suite.settings)) as channel:
        call = channel.unary_unary(
            DESCRIBE_METHOD,
            request_serializer=empty_pb2.Empty.SerializeToString,
            response_deserializer=struct_pb2.Struct.FromString,
        )
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call(empty_pb2.Empty(), timeout=5)
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_modes_show_a_tripped_provider_and_a_live_model(
    database_dsn: str, redis_url: str, tmp_path: Path
) -> None:
    # Duffel has a server key but nothing listens at its address; the assistant's model is
    # an OpenAI-compatible endpoint (never called here: the mode follows the settings).
    dead = f"http://127.0.0.1:{free_port()}"
    settings = make_settings(
        database_dsn,
        redis_url,
        tmp_path,
        duffel_access_token="duffel_test_unreachable_key",
        duffel_api_url=dead,
        openai_base_url=f"{dead}/v1",
    )
    running = RunningSuite(settings)
    try:
        for name in ("auth", "travel", "assistant"):
            await running.start_service(name)
        await running.start_gateway()
        account = await register(running.address("auth"))
        when = (date.today() + timedelta(days=30)).isoformat()
        request = travel_pb.SearchFlightsRequest(
            slices=[travel_pb.FlightSlice(origin="LHR", destination="JFK", departure_date=when)],
            passengers=travel_pb.Passengers(adults=1),
            cabin_class=1,
        )
        async with grpc.aio.insecure_channel(running.address("travel")) as channel:
            travel = travel_grpc.TravelServiceStub(channel)
            for _ in range(CircuitBreaker("duffel").failure_threshold):
                with pytest.raises(grpc.aio.AioRpcError) as caught:
                    await travel.SearchFlights(request, metadata=account.metadata, timeout=30)
                assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
        async with httpx.AsyncClient(base_url=running.gateway_url) as client:
            response = await client.get("/api/health/detailed", headers=OPERATOR_HEADERS)
        services = response.json()["services"]
        assert services["travel"]["modes"]["duffel"] == "circuit_open"
        assert services["travel"]["modes"]["openweathermap"] == "sandbox"
        assert services["assistant"]["modes"] == {"model": "live"}
    finally:
        await running.stop()
