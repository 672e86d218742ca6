"""The gateway's detailed health carries each service's own figures (Diagnostics/Describe)."""

from __future__ import annotations

import grpc
import httpx
import pytest
from google.protobuf import empty_pb2, struct_pb2

from tests.support.suite import OPERATOR_HEADERS, RunningSuite
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
    for name in ("auth", "trips", "assistant"):
        body = services[name]
        assert isinstance(body["postgresLatencyMs"], int | float), (name, body)
        assert isinstance(body["redisLatencyMs"], int | float), (name, body)
        pool = body["pool"]
        assert isinstance(pool, dict), (name, body)
        assert 1 <= pool["size"] <= pool["maxSize"], (name, pool)
        assert 0 <= pool["inUse"] <= pool["size"], (name, pool)


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
