"""Every service's Prometheus port, scraped over HTTP after real calls through the gateway:
per-RPC counts by status code, latency, in-flight calls and database pool gauges."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from prometheus_client.parser import text_string_to_metric_families

from tests.support.accounts import register
from tests.support.suite import RunningSuite, make_settings, whole_suite
from tripsage_core.embedded import free_port

pytestmark = pytest.mark.database
SERVICES = ("auth", "trips", "travel", "assistant")
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture(scope="module")
def ports() -> dict[str, int]:
    return {name: free_port() for name in SERVICES}


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def suite(
    database_dsn: str,
    redis_url: str,
    ports: dict[str, int],
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[RunningSuite]:
    overrides = {f"{name}_metrics_port": port for name, port in ports.items()}
    settings = make_settings(
        database_dsn, redis_url, tmp_path_factory.mktemp("metrics"), **overrides
    )
    async with whole_suite(settings) as running:
        yield running


async def scrape(port: int) -> Samples:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(f"http://127.0.0.1:{port}/metrics")
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def requests(samples: Samples, service: str, method: str, code: str) -> float:
    labels = (("grpc_code", code), ("grpc_method", method), ("grpc_service", service))
    return samples.get(("tripsage_rpc_requests_total", labels), 0.0)


@pytest.mark.asyncio(loop_scope="session")
async def test_each_service_port_counts_its_rpcs_by_code(
    suite: RunningSuite, ports: dict[str, int], http: httpx.AsyncClient
) -> None:
    trips = "tripsage.trips.v1.TripService"
    before = await scrape(ports["trips"])
    ana = await register(suite.address("auth"), "metrics")
    missing = await http.get(f"/api/v1/trips/{uuid.uuid4()}", headers=ana.headers)
    assert missing.status_code == 404, missing.text
    created = await http.post(
        "/api/v1/trips",
        json={"title": "Lisbon"},
        headers=ana.headers,
    )
    assert created.status_code == 201, created.text

    after = await scrape(ports["trips"])
    assert requests(after, trips, "GetTrip", "NOT_FOUND") == (
        requests(before, trips, "GetTrip", "NOT_FOUND") + 1
    )
    assert (
        requests(after, trips, "CreateTrip", "OK")
        == requests(before, trips, "CreateTrip", "OK") + 1
    )
    labels = (("grpc_method", "GetTrip"), ("grpc_service", trips))
    assert after[("tripsage_rpc_duration_seconds_count", labels)] >= 1
    assert after[("tripsage_rpc_in_flight", labels)] == 0

    auth = await scrape(ports["auth"])
    assert requests(auth, "tripsage.auth.v1.AuthService", "Register", "OK") >= 1


@pytest.mark.asyncio(loop_scope="session")
async def test_pool_gauges_per_service(suite: RunningSuite, ports: dict[str, int]) -> None:
    samples = await scrape(ports["trips"])
    for service in ("auth", "trips", "assistant"):
        size = samples[("tripsage_db_pool_size", (("service", service),))]
        idle = samples[("tripsage_db_pool_idle", (("service", service),))]
        assert size >= 1
        assert samples[("tripsage_db_pool_in_use", (("service", service),))] == size - idle
        assert samples[("tripsage_db_pool_max_size", (("service", service),))] >= size


@pytest.mark.asyncio(loop_scope="session")
async def test_a_chat_turn_moves_the_model_and_tool_metrics(
    suite: RunningSuite, ports: dict[str, int], http: httpx.AsyncClient
) -> None:
    model = (("mode", "offline"), ("model", "offline"), ("outcome", "ok"))
    tool = (("outcome", "ok"), ("tool", "get_weather"))
    before = await scrape(ports["assistant"])
    ana = await register(suite.address("auth"), "chatty")
    made = await http.post("/api/v1/conversations", json={}, headers=ana.headers)
    assert made.status_code == 201, made.text
    conversation = made.json()["conversation"]["id"]
    said = await http.post(
        f"/api/v1/conversations/{conversation}/messages",
        json={"content": "weather in Seville"},
        headers=ana.headers,
    )
    assert said.status_code == 200, said.text

    after = await scrape(ports["assistant"])
    name = "tripsage_assistant_model_call_duration_seconds_count"
    # One model call asks for the weather tool, the next answers from its result.
    assert after[(name, model)] == before.get((name, model), 0) + 2
    tools = "tripsage_assistant_tool_call_duration_seconds_count"
    assert after[(tools, tool)] == before.get((tools, tool), 0) + 1
    assistant = "tripsage.assistant.v1.AssistantService"
    assert requests(after, assistant, "SendMessage", "OK") >= 1
