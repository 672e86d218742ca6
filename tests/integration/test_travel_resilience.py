"""Provider trouble through the service: 429 and Retry-After, timeouts, retries, the circuit
breaker, stale answers from the cache, coalesced searches and metrics; gRPC and gateway."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import grpc
import httpx
import pytest
import pytest_asyncio
import redis.asyncio as redis
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from tests.support.accounts import Account, register
from tests.support.fake_providers import FakeProviders, serve_fake_providers
from tests.support.fake_providers.app import Scripted
from tests.support.fake_providers.suite import live_overrides, travel_suite
from tests.support.suite import RunningSuite
from tripsage.travel.v1 import travel_service_pb2 as pb
from tripsage.travel.v1 import travel_service_pb2_grpc as pb_grpc
from tripsage_core.embedded import free_port

pytestmark = pytest.mark.database
FAILING = Scripted(status=503, body={"errors": [{"message": "Service temporarily unavailable"}]})


def day(ahead: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=ahead)).isoformat()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def fake() -> AsyncIterator[FakeProviders]:
    async with serve_fake_providers() as running:
        yield running


@pytest.fixture(scope="module")
def metrics_port() -> int:
    return free_port()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def suite(
    fake: FakeProviders,
    database_dsn: str,
    redis_url: str,
    metrics_port: int,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[RunningSuite]:
    overrides = {
        **live_overrides(fake),
        "provider_timeout_seconds": 0.5,
        "travel_metrics_port": metrics_port,
        # These tests age Redis entries by hand; the replica's in-memory layer in front
        # of Redis would go on answering its fresh copy (docs/travel.md, Caching).
        "travel_local_cache_seconds": 0,
    }
    async with travel_suite(
        database_dsn, redis_url, tmp_path_factory.mktemp("resilience"), **overrides
    ) as running:
        yield running


@pytest.fixture
async def travel(suite: RunningSuite) -> AsyncIterator[pb_grpc.TravelServiceAsyncStub]:
    async with grpc.aio.insecure_channel(suite.address("travel")) as channel:
        yield pb_grpc.TravelServiceStub(channel)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def ana(suite: RunningSuite) -> Account:
    return await register(suite.address("auth"), "ana")


def retry_delay(error: grpc.aio.AioRpcError) -> float | None:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None
    for detail in status.details:
        if detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            info = error_details_pb2.RetryInfo()
            detail.Unpack(info)
            return info.retry_delay.seconds + info.retry_delay.nanos / 1e9
    return None


async def test_a_long_retry_after_is_respected(
    travel: pb_grpc.TravelServiceAsyncStub,
    http: httpx.AsyncClient,
    fake: FakeProviders,
    ana: Account,
) -> None:
    fake.reset()
    fake.script(
        "/data/2.5/weather",
        Scripted(status=429, headers={"Retry-After": "30"}, body={"cod": 429, "message": "slow"}),
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await travel.GetWeather(pb.GetWeatherRequest(place="Oslo"), metadata=ana.metadata)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "openweathermap" in (caught.value.details() or "")
    delay = retry_delay(caught.value)
    assert delay is not None
    assert 25 <= delay <= 30
    # Until Retry-After passes the provider is left alone; callers are told to wait.
    reply = await http.get("/api/v1/weather", headers=ana.headers, params={"place": "Bergen"})
    assert reply.status_code == 503
    assert reply.json()["error"]["status"] == "UNAVAILABLE"
    assert 20 <= int(reply.headers["retry-after"]) <= 30  # RetryInfo, passed on by the gateway
    assert len(fake.calls("/data/2.5/")) == 1


async def test_a_short_retry_after_is_waited_out(
    travel: pb_grpc.TravelServiceAsyncStub, fake: FakeProviders, ana: Account
) -> None:
    fake.reset()
    fake.script("/v1/places:searchText", Scripted(status=429, headers={"Retry-After": "0.2"}))
    reply = await travel.SearchPlaces(
        pb.SearchPlacesRequest(query="bakeries in Porto"), metadata=ana.metadata
    )
    assert reply.places
    assert len(fake.calls("/v1/places:searchText")) == 2


async def test_5xx_and_timeouts_are_retried_then_unavailable(
    travel: pb_grpc.TravelServiceAsyncStub,
    http: httpx.AsyncClient,
    fake: FakeProviders,
    ana: Account,
) -> None:
    fake.reset()
    fake.script("/maps/api/geocode/json", FAILING)
    recovered = await travel.Geocode(pb.GeocodeRequest(address="Faro"), metadata=ana.metadata)
    assert recovered.results
    assert len(fake.calls("/maps/api/geocode/json")) == 2  # one failure, one retry
    fake.reset()
    fake.script("/maps/api/geocode/json", *[Scripted(delay=1.0)] * 3)
    reply = await http.get("/api/v1/geocode", headers=ana.headers, params={"address": "Braga"})
    assert reply.status_code == 503
    assert "timed out" in reply.json()["error"]["message"]
    assert len(fake.calls("/maps/api/geocode/json")) == 3  # bounded: three attempts


async def age_entries(suite: RunningSuite, kind: str, seconds: float) -> int:
    """Make cached answers of a kind look `seconds` older (the entry header is the fetch time)."""
    client = redis.Redis.from_url(suite.settings.redis_url.get_secret_value())  # type: ignore[union-attr]
    aged = 0
    try:
        pattern = f"{suite.settings.travel_cache_prefix}:v1:{kind}:*"
        async for key in client.scan_iter(match=pattern):
            raw = await client.get(key)
            (fetched,) = struct.unpack_from("!d", raw)
            await client.set(key, struct.pack("!d", fetched - seconds) + raw[8:], keepttl=True)
            aged += 1
    finally:
        await client.aclose()
    return aged


async def test_a_recent_answer_is_served_stale_when_the_provider_is_down(
    travel: pb_grpc.TravelServiceAsyncStub,
    http: httpx.AsyncClient,
    suite: RunningSuite,
    fake: FakeProviders,
    ana: Account,
) -> None:
    request = pb.SearchAccommodationsRequest(
        destination="Lisbon", check_in_date=day(50), check_out_date=day(52)
    )
    fresh = await travel.SearchAccommodations(request, metadata=ana.metadata)
    assert fresh.source.data_source == pb.DATA_SOURCE_LIVE
    assert await age_entries(suite, "stays", 900) == 1  # past its 10 minutes
    fake.reset()
    fake.script("/stays/search", FAILING, FAILING, FAILING)
    stale = await travel.SearchAccommodations(request, metadata=ana.metadata)
    assert stale.source.data_source == pb.DATA_SOURCE_CACHE_STALE
    assert stale.source.cached
    assert stale.source.fetch_time.seconds < fresh.source.fetch_time.seconds
    assert [a.id for a in stale.accommodations] == [a.id for a in fresh.accommodations]
    assert len(fake.calls("/stays/search")) == 3
    # Nothing cached for another place: a clear UNAVAILABLE, never a 500.
    fake.script("/stays/search", FAILING, FAILING, FAILING)
    reply = await http.post(
        "/api/v1/accommodations:search",
        headers=ana.headers,
        json={"destination": "Porto", "checkInDate": day(50), "checkOutDate": day(52)},
    )
    assert reply.status_code == 503
    assert "duffel is not answering" in reply.json()["error"]["message"]


async def test_identical_concurrent_searches_share_one_provider_call(
    travel: pb_grpc.TravelServiceAsyncStub, fake: FakeProviders, ana: Account
) -> None:
    fake.reset()
    fake.script("/v1/places:searchText", Scripted(delay=0.4))
    request = pb.SearchPlacesRequest(query="viewpoints in Lisbon", max_results=3)
    replies = await asyncio.gather(
        *(travel.SearchPlaces(request, metadata=ana.metadata) for _ in range(6))
    )
    assert len(fake.calls("/v1/places:searchText")) == 1
    assert all(list(r.places) == list(replies[0].places) for r in replies)


async def test_metrics_count_hits_misses_and_provider_latency(
    travel: pb_grpc.TravelServiceAsyncStub, metrics_port: int, ana: Account
) -> None:
    request = pb.ReverseGeocodeRequest(location={"latitude": 41.15, "longitude": -8.61})
    await travel.ReverseGeocode(request, metadata=ana.metadata)
    await travel.ReverseGeocode(request, metadata=ana.metadata)
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"http://127.0.0.1:{metrics_port}/metrics")).text
    assert 'tripsage_travel_cache_lookups_total{kind="reverse_geocode",result="hit"}' in text
    assert 'tripsage_travel_cache_lookups_total{kind="reverse_geocode",result="miss"}' in text
    assert 'tripsage_travel_provider_latency_seconds_count{operation="reverse_geocode"' in text


async def test_the_circuit_opens_after_repeated_failures(
    travel: pb_grpc.TravelServiceAsyncStub,
    http: httpx.AsyncClient,
    fake: FakeProviders,
    ana: Account,
) -> None:
    def search(ahead: int) -> pb.SearchFlightsRequest:
        return pb.SearchFlightsRequest(
            slices=[pb.FlightSlice(origin="LIS", destination="OPO", departure_date=day(ahead))]
        )

    await travel.SearchFlights(search(10), metadata=ana.metadata)  # closes the circuit
    fake.reset()
    fake.script("/air/offer_requests", *[FAILING] * 5)
    for ahead in range(11, 16):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await travel.SearchFlights(search(ahead), metadata=ana.metadata)
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    # Creating an offer request is not idempotent: one attempt each, no retries.
    assert len(fake.calls("/air/offer_requests")) == 5
    reply = await http.post(
        "/api/v1/flights:search",
        headers=ana.headers,
        json={"slices": [{"origin": "LIS", "destination": "OPO", "departureDate": day(16)}]},
    )
    assert reply.status_code == 503
    assert "failing repeatedly" in reply.json()["error"]["message"]
    assert len(fake.calls("/air/offer_requests")) == 5  # the open circuit did not call
