"""Contract tests of the live adapters against local servers speaking each provider's API.

The real client code runs (httpx, retries, Retry-After, the circuit breaker);
only the far end is local.
"""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime

import pytest
import pytest_asyncio

from services.travel.ports import GeoPoint, WeatherQuery
from services.travel.providers.duffel import DuffelProvider
from services.travel.providers.google_maps import GoogleMapsProvider
from services.travel.providers.http import (
    ProviderAuthFailed,
    ProviderHttp,
    ProviderNotFound,
    ProviderRejected,
    ProviderUnavailable,
)
from services.travel.providers.openweathermap import OpenWeatherMapProvider
from tests.support.fake_providers import (
    DUFFEL_KEY,
    GOOGLE_KEY,
    OWM_KEY,
    REJECTED_KEY,
    FakeProviders,
    serve_fake_providers,
)
from tests.support.fake_providers.app import Scripted
from tripsage.travel.v1 import travel_service_pb2 as pb
from tripsage_core.circuit_breaker import CircuitBreaker

FAILING = Scripted(status=500, body={"errors": [{"message": "internal error"}]})


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def fake() -> AsyncIterator[FakeProviders]:
    async with serve_fake_providers() as running:
        yield running


@pytest.fixture(autouse=True)
def fresh(fake: FakeProviders) -> None:
    fake.reset()


def http(fake: FakeProviders, name: str, **kwargs: object) -> ProviderHttp:
    return ProviderHttp(name, fake.base_url, timeout=1.0, backoff_seconds=0.01, **kwargs)  # type: ignore[arg-type]


def flights(day: str = "") -> pb.SearchFlightsRequest:
    when = day or (date.today() + timedelta(days=30)).isoformat()
    return pb.SearchFlightsRequest(
        slices=[pb.FlightSlice(origin="LHR", destination="JFK", departure_date=when)],
        passengers=pb.Passengers(adults=1),
        cabin_class=1,
    )


async def test_duffel_offer_request_and_offer(fake: FakeProviders) -> None:
    duffel = DuffelProvider(http(fake, "duffel"))
    offers = await duffel.search_flights(flights(), DUFFEL_KEY)
    assert len(offers) == 3
    call = fake.calls("/air/offer_requests")[0]
    assert call.headers["content-type"] == "application/json"
    assert call.headers["accept"] == "application/json"
    got = await duffel.get_flight_offer(offers[0].id, DUFFEL_KEY)
    assert got == offers[0]
    segment = got.slices[0].segments[0]
    # Local times are the airport's wall clock; Timestamps are the same instants in UTC.
    local = datetime.fromisoformat(segment.departure_local_time)
    assert abs(segment.departure_time.seconds - local.replace(tzinfo=UTC).timestamp()) <= 3600
    assert segment.aircraft == "Airbus A320"


async def test_duffel_errors_keep_their_meaning(fake: FakeProviders) -> None:
    duffel = DuffelProvider(http(fake, "duffel"))
    with pytest.raises(ProviderAuthFailed, match="not valid"):
        await duffel.search_flights(flights(), REJECTED_KEY)
    with pytest.raises(ProviderNotFound):
        await duffel.get_flight_offer("off_missing", DUFFEL_KEY)
    bad = flights()
    bad.slices[0].origin = "ZZZ"
    with pytest.raises(ProviderRejected, match="unknown origin ZZZ"):
        await duffel.search_flights(bad, DUFFEL_KEY)


async def test_idempotent_calls_are_retried_others_are_not(fake: FakeProviders) -> None:
    duffel = DuffelProvider(http(fake, "duffel"))
    offer = (await duffel.search_flights(flights(), DUFFEL_KEY))[0]
    fake.reset()
    fake.script("/air/offers/", FAILING, FAILING)
    assert (await duffel.get_flight_offer(offer.id, DUFFEL_KEY)).id == offer.id
    assert len(fake.calls("/air/offers/")) == 3
    fake.script("/air/offer_requests", FAILING)
    with pytest.raises(ProviderUnavailable, match="answered 500"):
        await duffel.search_flights(flights(), DUFFEL_KEY)
    assert len(fake.calls("/air/offer_requests")) == 1


async def test_retry_after_as_an_http_date_blocks_the_provider(fake: FakeProviders) -> None:
    client = http(fake, "openweathermap")
    weather = OpenWeatherMapProvider(client)
    until = format_datetime(datetime.now(UTC) + timedelta(seconds=60), usegmt=True)
    fake.script("/data/2.5/weather", Scripted(status=429, headers={"Retry-After": until}))
    query = WeatherQuery(GeoPoint(38.7, -9.1), "Lisbon", date.today(), None)
    with pytest.raises(ProviderUnavailable) as caught:
        await weather.weather(query, OWM_KEY)
    assert caught.value.retry_after is not None
    assert 50 < caught.value.retry_after <= 60
    with pytest.raises(ProviderUnavailable, match="rate limited"):
        await weather.weather(query, OWM_KEY)
    assert len(fake.calls("/data/2.5/")) == 1


async def test_timeouts_and_unreachable_hosts_are_unavailable(fake: FakeProviders) -> None:
    client = ProviderHttp("google_maps", fake.base_url, timeout=0.2, attempts=2, backoff_seconds=0)
    maps = GoogleMapsProvider(client, client, client)
    fake.script("/maps/api/geocode/json", Scripted(delay=0.5), Scripted(delay=0.5))
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable, match="timed out"):
        await maps.geocode(pb.GeocodeRequest(address="Lisbon", max_results=5), GOOGLE_KEY)
    assert time.monotonic() - started < 2
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    nowhere = ProviderHttp("duffel", f"http://127.0.0.1:{port}", timeout=0.5, attempts=1)
    with pytest.raises(ProviderUnavailable, match="not reachable"):
        await DuffelProvider(nowhere).get_flight_offer("off_1", DUFFEL_KEY)


async def test_the_circuit_breaker_fails_fast_then_tries_again(fake: FakeProviders) -> None:
    now = [0.0]
    breaker = CircuitBreaker("duffel", failure_threshold=2, reset_seconds=10, clock=lambda: now[0])
    duffel = DuffelProvider(http(fake, "duffel", breaker=breaker))
    fake.script("/air/offer_requests", FAILING, FAILING)
    for _ in range(2):
        with pytest.raises(ProviderUnavailable):
            await duffel.search_flights(flights(), DUFFEL_KEY)
    with pytest.raises(ProviderUnavailable, match="failing repeatedly") as caught:
        await duffel.search_flights(flights(), DUFFEL_KEY)
    assert caught.value.retry_after == 10
    assert len(fake.calls("/air/offer_requests")) == 2
    now[0] = 11.0  # half-open: one trial call goes through and closes the circuit
    assert await duffel.search_flights(flights(), DUFFEL_KEY)
    assert breaker.state == "closed"


async def test_google_places_geocoding_and_routes(fake: FakeProviders) -> None:
    client = http(fake, "google_maps")
    maps = GoogleMapsProvider(client, client, client)
    places = await maps.search_places(
        pb.SearchPlacesRequest(query="museums", type="museum", max_results=10), GOOGLE_KEY
    )
    assert places[0].website_uri
    assert places[2].price_level == 0
    body = fake.calls("/v1/places:searchText")[0].json
    assert body == {
        "textQuery": "museums",
        "pageSize": 10,
        "languageCode": "en",
        "includedType": "museum",
    }
    restaurant = places[1]
    assert restaurant.dietary_options == ["vegetarian"]  # servesVegetarianFood
    assert restaurant.typical_price.start_price.units == 20  # priceRange
    assert restaurant.typical_price.end_price.units == 30
    assert not restaurant.accessibility.wheelchair_accessible_entrance
    assert places[0].accessibility.wheelchair_accessible_restroom
    # Google's day 0 is Sunday; the contract's DayOfWeek says SUNDAY = 7. Monday closed.
    days = [p.open_day for p in places[0].opening_periods]
    assert days == [7, 2, 3, 4, 5, 6]
    assert places[0].opening_periods[0].close_time.hours == 18
    detail = await maps.get_place(pb.GetPlaceRequest(place_id=restaurant.id), GOOGLE_KEY)
    assert detail == restaurant
    sent = fake.calls("/v1/places/")[-1]
    assert sent.headers["x-goog-fieldmask"].split(",")[0] == "id"  # no "places." prefix
    assert sent.params["languageCode"] == "en"
    with pytest.raises(ProviderNotFound):
        await maps.get_place(pb.GetPlaceRequest(place_id="ChIJnothing"), GOOGLE_KEY)
    with pytest.raises(ProviderAuthFailed):
        await maps.search_places(pb.SearchPlacesRequest(query="x", max_results=1), REJECTED_KEY)
    with pytest.raises(ProviderAuthFailed, match="invalid"):
        await maps.geocode(pb.GeocodeRequest(address="Lisbon", max_results=1), REJECTED_KEY)
    fake.script(
        "/maps/api/geocode/json",
        Scripted(body={"results": [], "status": "OVER_QUERY_LIMIT", "error_message": "quota"}),
    )
    with pytest.raises(ProviderUnavailable, match="quota"):
        await maps.geocode(pb.GeocodeRequest(address="Lisbon", max_results=1), GOOGLE_KEY)
    found = await maps.geocode(
        pb.GeocodeRequest(address="Lisbon", region_code="PT", max_results=1), GOOGLE_KEY
    )
    assert found[0].region == "Lisbon"
    assert fake.calls("/maps/api/geocode/json")[-1].params["region"] == "pt"
    when = pb.GetTravelTimeRequest(
        origin=pb.Waypoint(location={"latitude": 38.7, "longitude": -9.1}),
        destination=pb.Waypoint(address="Belem"),
        mode=pb.TRAVEL_MODE_DRIVE,
    )
    when.departure_time.FromDatetime(datetime(2030, 5, 1, 9, 0, tzinfo=UTC))
    route = await maps.travel_time(when, GOOGLE_KEY)
    assert route.duration.seconds > 0
    sent = fake.calls("/directions/v2:computeRoutes")[0].json
    assert sent["origin"] == {"location": {"latLng": {"latitude": 38.7, "longitude": -9.1}}}
    assert sent["departureTime"] == "2030-05-01T09:00:00Z"
    assert sent["routingPreference"] == "TRAFFIC_AWARE"


async def test_openweathermap_days_are_folded_from_three_hour_steps(fake: FakeProviders) -> None:
    weather = OpenWeatherMapProvider(http(fake, "openweathermap"))
    today = datetime.now(UTC).date()
    reply = await weather.weather(
        WeatherQuery(GeoPoint(38.72, -9.14), "", today, today + timedelta(days=10)), OWM_KEY
    )
    assert reply.place == "Lisbon"
    assert reply.current.description == "light rain"
    assert reply.current.humidity_percent == 77
    assert 5 <= len(reply.daily) <= 6  # five days of forecast, maybe a sixth partial one
    full = reply.daily[1]
    assert full.min_temperature_celsius == 14
    assert full.max_temperature_celsius == 25
    assert full.precipitation_probability == pytest.approx(0.8)
    assert full.precipitation_mm == pytest.approx(2.4)
    assert full.condition == pb.WEATHER_CONDITION_RAIN  # rain outranks clouds for the day
    with pytest.raises(ProviderAuthFailed, match="Invalid API key"):
        await weather.weather(WeatherQuery(GeoPoint(0, 0), "", today, None), REJECTED_KEY)
