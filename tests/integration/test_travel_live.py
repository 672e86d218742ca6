"""The live adapters through the service: Duffel, Google Maps Platform and OpenWeatherMap
(local servers that speak their protocols), over gRPC and the gateway, with BYOK keys."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import grpc
import httpx
import pytest
import pytest_asyncio

from tests.support.accounts import Account, register
from tests.support.fake_providers import (
    DUFFEL_KEY,
    GOOGLE_KEY,
    OWM_KEY,
    REJECTED_KEY,
    FakeProviders,
    serve_fake_providers,
)
from tests.support.fake_providers.suite import live_overrides, travel_suite
from tests.support.suite import RunningSuite
from tripsage.auth.v1 import auth_service_pb2 as auth_pb
from tripsage.auth.v1 import auth_service_pb2_grpc as auth_grpc
from tripsage.common.v1 import cabin_class_pb2
from tripsage.travel.v1 import travel_service_pb2 as pb
from tripsage.travel.v1 import travel_service_pb2_grpc as pb_grpc

pytestmark = pytest.mark.database
USERS_DUFFEL_KEY = "duffel_live_" + "users0own0key0abcdefghijk"


def day(ahead: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=ahead)).isoformat()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def fake() -> AsyncIterator[FakeProviders]:
    async with serve_fake_providers() as running:
        yield running


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def suite(
    fake: FakeProviders,
    database_dsn: str,
    redis_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[RunningSuite]:
    async with travel_suite(
        database_dsn, redis_url, tmp_path_factory.mktemp("live"), **live_overrides(fake)
    ) as running:
        yield running


@pytest.fixture
async def travel(suite: RunningSuite) -> AsyncIterator[pb_grpc.TravelServiceAsyncStub]:
    async with grpc.aio.insecure_channel(suite.address("travel")) as channel:
        yield pb_grpc.TravelServiceStub(channel)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def ana(suite: RunningSuite) -> Account:
    return await register(suite.address("auth"), "ana")


async def store_own_key(suite: RunningSuite, account: Account, service: int, key: str) -> None:
    async with grpc.aio.insecure_channel(suite.address("auth")) as channel:
        await auth_grpc.AuthServiceStub(channel).PutProviderKey(
            auth_pb.PutProviderKeyRequest(service=service, api_key=key),  # type: ignore[arg-type]
            metadata=account.metadata,
        )


def assert_live(source: pb.ResultSource, provider: str, *, user_key: bool = False) -> None:
    assert source.data_source == pb.DATA_SOURCE_LIVE
    assert source.provider == provider
    assert source.user_key is user_key


async def test_flights_go_to_duffel_with_its_headers_and_shapes(
    travel: pb_grpc.TravelServiceAsyncStub, fake: FakeProviders, ana: Account
) -> None:
    fake.reset()
    reply = await travel.SearchFlights(
        pb.SearchFlightsRequest(
            slices=[
                pb.FlightSlice(
                    origin="LHR",
                    destination="LIS",
                    departure_date=day(40),
                    earliest_departure_time="09:00",
                    latest_departure_time="18:00",
                ),
                pb.FlightSlice(origin="LIS", destination="LHR", departure_date=day(47)),
            ],
            passengers=pb.Passengers(adults=2, child_ages=[9], infants=1),
            cabin_class=cabin_class_pb2.CABIN_CLASS_PREMIUM_ECONOMY,
            max_stops=1,
        ),
        metadata=ana.metadata,
    )
    (call,) = fake.calls("/air/offer_requests")
    assert call.headers["duffel-version"] == "v2"
    assert call.headers["authorization"] == f"Bearer {DUFFEL_KEY}"
    assert call.params["return_offers"] == "true"
    body = call.json["data"]
    assert body["cabin_class"] == "premium_economy"
    assert body["max_connections"] == 1
    assert body["passengers"] == [
        {"type": "adult"},
        {"type": "adult"},
        {"age": 9},
        {"type": "infant_without_seat"},
    ]
    assert body["slices"][0]["departure_time"] == {"from": "09:00", "to": "18:00"}
    assert_live(reply.source, "duffel")
    assert [o.owner_airline for o in reply.offers] == ["TP", "LH", "BA"]  # cheapest first
    offer = reply.offers[-1]
    assert offer.id.startswith("off_")
    assert offer.total_price.currency_code == "GBP"
    assert offer.refundable
    assert offer.changeable
    assert offer.checked_bags == 1
    assert offer.expire_time.seconds > 0
    # Duffel prices the offer as a whole: an even split over the four passengers.
    (split,) = offer.passenger_prices
    assert (split.passenger_type, split.count) == ("passenger", 4)
    assert split.price.units * 4 <= offer.total_price.units < (split.price.units + 1) * 4
    segment = offer.slices[0].segments[0]
    assert (segment.origin, segment.destination) == ("LHR", "LIS")
    assert segment.departure_local_time == f"{day(40)}T09:00"
    assert segment.cabin_class == cabin_class_pb2.CABIN_CLASS_PREMIUM_ECONOMY
    # 09:00 in London; the Timestamp is UTC.
    departs = datetime.fromtimestamp(segment.departure_time.seconds, UTC)
    assert departs.hour in (8, 9)
    assert segment.duration.seconds > 3600
    tp = reply.offers[0]
    assert tp.total_stops == 2
    assert [s.destination for s in tp.slices[0].segments] == ["MAD", "LIS"]


async def test_flight_offer_by_id_and_the_gateway(
    travel: pb_grpc.TravelServiceAsyncStub,
    http: httpx.AsyncClient,
    fake: FakeProviders,
    ana: Account,
) -> None:
    reply = await http.post(
        "/api/v1/flights:search",
        headers=ana.headers,
        json={"slices": [{"origin": "CDG", "destination": "FCO", "departureDate": day(21)}]},
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["source"]["provider"] == "duffel"
    assert body["source"]["dataSource"] == "DATA_SOURCE_LIVE"
    offer_id = body["offers"][0]["id"]
    fake.reset()
    got = await travel.GetFlightOffer(
        pb.GetFlightOfferRequest(offer_id=offer_id), metadata=ana.metadata
    )
    assert got.offer.id == offer_id
    assert [(p.passenger_type, p.count) for p in got.offer.passenger_prices] == [("adult", 1)]
    assert_live(got.source, "duffel")
    (call,) = fake.calls("/air/offers/")
    assert call.path == f"/air/offers/{offer_id}"
    assert call.headers["duffel-version"] == "v2"
    missing = await http.get("/api/v1/flights/offers/off_0000000000", headers=ana.headers)
    assert missing.status_code == 404
    assert missing.json()["error"]["status"] == "NOT_FOUND"


async def test_equal_searches_hit_the_cache(
    travel: pb_grpc.TravelServiceAsyncStub, fake: FakeProviders, ana: Account
) -> None:
    request = pb.SearchFlightsRequest(
        slices=[pb.FlightSlice(origin="AMS", destination="BCN", departure_date=day(33))]
    )
    fake.reset()
    first = await travel.SearchFlights(request, metadata=ana.metadata)
    # Written differently, the same question: lower-case codes, defaults spelled out.
    same = pb.SearchFlightsRequest(
        slices=[pb.FlightSlice(origin="ams", destination="bcn", departure_date=day(33))],
        passengers=pb.Passengers(adults=1),
        cabin_class=cabin_class_pb2.CABIN_CLASS_ECONOMY,
        max_results=20,
    )
    second = await travel.SearchFlights(same, metadata=ana.metadata)
    assert len(fake.calls("/air/offer_requests")) == 1
    assert not first.source.cached
    assert second.source.cached
    assert second.source.fetch_time == first.source.fetch_time
    assert [o.id for o in second.offers] == [o.id for o in first.offers]


async def test_equal_searches_hit_the_cache_through_the_gateway(
    http: httpx.AsyncClient, fake: FakeProviders, ana: Account
) -> None:
    fake.reset()
    bodies = []
    for spelling in ("Faro", "  faro "):
        reply = await http.get("/api/v1/weather", headers=ana.headers, params={"place": spelling})
        assert reply.status_code == 200, reply.text
        bodies.append(reply.json())
    assert bodies[0]["source"].get("cached", False) is False
    assert bodies[1]["source"]["cached"] is True
    assert bodies[1]["daily"] == bodies[0]["daily"]
    assert len(fake.calls("/data/2.5/weather")) == 1


async def test_stays_search_and_rates_through_duffel(
    travel: pb_grpc.TravelServiceAsyncStub,
    http: httpx.AsyncClient,
    fake: FakeProviders,
    ana: Account,
) -> None:
    fake.reset()
    reply = await travel.SearchAccommodations(
        pb.SearchAccommodationsRequest(
            destination="Lisbon",
            check_in_date=day(30),
            check_out_date=day(32),
            adults=2,
            child_ages=[4],
            radius_meters=2000,
            sort_by=pb.ACCOMMODATION_SORT_ORDER_RATING,
            min_review_score=7,
        ),
        metadata=ana.metadata,
    )
    (call,) = fake.calls("/stays/search")
    body = call.json["data"]
    assert body["guests"] == [{"type": "adult"}, {"type": "adult"}, {"type": "child", "age": 4}]
    assert body["location"]["radius"] == 2
    assert body["location"]["geographic_coordinates"]["latitude"] == pytest.approx(38.725, 0.01)
    assert (body["check_in_date"], body["check_out_date"]) == (day(30), day(32))
    assert call.headers["authorization"] == f"Bearer {DUFFEL_KEY}"
    assert_live(reply.source, "duffel")
    assert [a.name for a in reply.accommodations] == ["The Ritz Test", "Harbour Test Inn"]
    ritz = reply.accommodations[0]
    assert ritz.id.startswith("srr_")
    assert ritz.total_price.units == 820
    assert ritz.nightly_price.units == 410
    assert ritz.star_rating == 5
    assert "wifi" in ritz.amenities
    assert "Lisbon" in ritz.address
    detail = await http.get(f"/api/v1/accommodations/{ritz.id}", headers=ana.headers)
    assert detail.status_code == 200, detail.text
    rates = detail.json()["accommodation"]["rates"]
    assert len(rates) == 2
    assert {r["boardType"] for r in rates} == {"room only", "breakfast"}
    assert [r.get("refundable", False) for r in rates] == [False, True]
    assert fake.calls(f"/stays/search_results/{ritz.id}/actions/fetch_all_rates")
    # The cheapest rate is quoted: its price is what it costs now (2% up since the search).
    (quote,) = fake.calls("/stays/quotes")
    assert quote.json["data"]["rate_id"] == rates[0]["id"]
    assert quote.headers["duffel-version"] == "v2"
    assert rates[0]["totalPrice"]["units"] == "836"
    assert detail.json()["accommodation"]["totalPrice"]["units"] == "836"


async def test_places_geocoding_and_routes_through_google(
    travel: pb_grpc.TravelServiceAsyncStub,
    http: httpx.AsyncClient,
    fake: FakeProviders,
    ana: Account,
) -> None:
    fake.reset()
    places = await travel.SearchPlaces(
        pb.SearchPlacesRequest(
            query="things to do in Lisbon",
            location={"latitude": 38.72, "longitude": -9.14},
            radius_meters=2500,
            max_results=2,
        ),
        metadata=ana.metadata,
    )
    (call,) = fake.calls("/v1/places:searchText")
    assert call.headers["x-goog-api-key"] == GOOGLE_KEY
    mask = call.headers["x-goog-fieldmask"].split(",")
    assert {"places.displayName", "places.location", "places.regularOpeningHours"} <= set(mask)
    assert call.json["textQuery"] == "things to do in Lisbon"
    assert call.json["pageSize"] == 2
    assert call.json["locationBias"]["circle"]["radius"] == 2500
    assert_live(places.source, "google_maps")
    assert [p.name for p in places.places] == ["Museu Nacional do Azulejo", "Cervejaria Ramiro"]
    assert places.places[0].price_level == -1  # unknown
    assert places.places[1].price_level == 2
    assert len(places.places[0].opening_hours) == 7
    detail = await http.get(f"/api/v1/places/{places.places[1].id}", headers=ana.headers)
    assert detail.status_code == 200, detail.text
    assert detail.json()["place"]["dietaryOptions"] == ["vegetarian"]
    assert detail.json()["source"]["dataSource"] == "DATA_SOURCE_LIVE"
    (details_call,) = fake.calls("/v1/places/ChIJ")
    assert details_call.headers["x-goog-api-key"] == GOOGLE_KEY
    gone = await http.get("/api/v1/places/ChIJnothing", headers=ana.headers)
    assert gone.status_code == 404, gone.text
    geocoded = await http.get("/api/v1/geocode", headers=ana.headers, params={"address": "Lisboa"})
    assert geocoded.status_code == 200, geocoded.text
    result = geocoded.json()["results"][0]
    assert (result["locality"], result["countryCode"]) == ("Lisboa", "PT")
    assert fake.calls("/maps/api/geocode/json")[0].params["key"] == GOOGLE_KEY
    nothing = await travel.Geocode(
        pb.GeocodeRequest(address="Nowhere at all"), metadata=ana.metadata
    )
    assert list(nothing.results) == []
    reverse = await travel.ReverseGeocode(
        pb.ReverseGeocodeRequest(location={"latitude": 38.71, "longitude": -9.137}),
        metadata=ana.metadata,
    )
    assert reverse.results[0].types[0] == "street_address"
    assert fake.calls("/maps/api/geocode/json")[-1].params["latlng"] == "38.71,-9.137"
    route = await travel.GetTravelTime(
        pb.GetTravelTimeRequest(
            origin=pb.Waypoint(address="Rossio, Lisbon"),
            destination=pb.Waypoint(place_id="ChIJtest"),
            mode=pb.TRAVEL_MODE_WALK,
        ),
        metadata=ana.metadata,
    )
    (routes_call,) = fake.calls("/directions/v2:computeRoutes")
    assert routes_call.json["origin"] == {"address": "Rossio, Lisbon"}
    assert routes_call.json["destination"] == {"placeId": "ChIJtest"}
    assert routes_call.json["travelMode"] == "WALK"
    assert routes_call.headers["x-goog-fieldmask"] == "routes.duration,routes.distanceMeters"
    assert route.distance_meters == 5234
    assert not route.estimated
    assert route.duration.seconds == int(5.234 / 5 * 3600)


async def test_weather_through_openweathermap(
    http: httpx.AsyncClient, fake: FakeProviders, ana: Account
) -> None:
    fake.reset()
    reply = await http.get(
        "/api/v1/weather",
        headers=ana.headers,
        params={"place": "Lisbon", "endDate": day(2)},
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["source"]["provider"] == "openweathermap"
    assert body["current"]["condition"] == "WEATHER_CONDITION_RAIN"
    assert body["current"]["temperatureCelsius"] == pytest.approx(17.4)
    assert body["timeZone"] == "Europe/Lisbon"
    assert 1 <= len(body["daily"]) <= 3
    assert all(d["date"] <= day(2) for d in body["daily"])
    for call in fake.calls("/data/2.5/"):
        assert call.params["appid"] == OWM_KEY
        assert call.params["units"] == "metric"
    assert {c.path for c in fake.calls("/data/2.5/")} == {"/data/2.5/weather", "/data/2.5/forecast"}


async def test_a_users_own_key_is_used_for_them_only(
    travel: pb_grpc.TravelServiceAsyncStub,
    http: httpx.AsyncClient,
    suite: RunningSuite,
    fake: FakeProviders,
    ana: Account,
) -> None:
    own = await register(suite.address("auth"), "byok")
    stored = await http.put(
        "/api/v1/users/me/provider-keys/PROVIDER_SERVICE_DUFFEL",
        headers=own.headers,
        json={"apiKey": USERS_DUFFEL_KEY},
    )
    assert stored.status_code == 200, stored.text
    request = pb.SearchFlightsRequest(
        slices=[pb.FlightSlice(origin="LIS", destination="MAD", departure_date=day(64))]
    )
    fake.reset()
    mine = await travel.SearchFlights(request, metadata=own.metadata)
    assert_live(mine.source, "duffel", user_key=True)
    assert fake.calls("/air/offer_requests")[0].headers["authorization"] == (
        f"Bearer {USERS_DUFFEL_KEY}"
    )
    # Ana asks the same: her answer is fetched with the server's key, not served from
    # the cache entry paid for by the other user's key.
    theirs = await travel.SearchFlights(request, metadata=ana.metadata)
    assert_live(theirs.source, "duffel")
    assert not theirs.source.cached
    calls = fake.calls("/air/offer_requests")
    assert len(calls) == 2
    assert calls[1].headers["authorization"] == f"Bearer {DUFFEL_KEY}"
    through_gateway = await http.post(
        "/api/v1/flights:search",
        headers=own.headers,
        json={"slices": [{"origin": "LIS", "destination": "MAD", "departureDate": day(64)}]},
    )
    assert through_gateway.json()["source"]["userKey"] is True
    assert through_gateway.json()["source"]["cached"] is True  # the user's own cache entry
    # Only the provider with a stored key changes: weather still uses the server key.
    await travel.GetWeather(pb.GetWeatherRequest(place="Madrid"), metadata=own.metadata)
    assert fake.calls("/data/2.5/weather")[-1].params["appid"] == OWM_KEY


async def test_a_rejected_own_key_is_the_users_problem_to_fix(
    travel: pb_grpc.TravelServiceAsyncStub, http: httpx.AsyncClient, suite: RunningSuite
) -> None:
    own = await register(suite.address("auth"), "revoked")
    await store_own_key(suite, own, auth_pb.PROVIDER_SERVICE_GOOGLE_MAPS, REJECTED_KEY)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await travel.SearchPlaces(
            pb.SearchPlacesRequest(query="cafes in Lisbon"), metadata=own.metadata
        )
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "your own API key" in (caught.value.details() or "")
    reply = await http.get("/api/v1/geocode", headers=own.headers, params={"address": "Porto"})
    assert reply.status_code == 400
    assert reply.json()["error"]["status"] == "FAILED_PRECONDITION"
