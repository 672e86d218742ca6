"""Every travel RPC answered by the built-in sandbox (no provider keys), over gRPC and REST."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import grpc
import httpx
import pytest
import pytest_asyncio

from tests.support.accounts import Account, register
from tests.support.errors import field_violations
from tests.support.fake_providers.suite import sandbox_overrides, travel_suite
from tests.support.suite import RunningSuite
from tripsage.common.v1 import cabin_class_pb2
from tripsage.travel.v1 import travel_service_pb2 as pb
from tripsage.travel.v1 import travel_service_pb2_grpc as pb_grpc

pytestmark = pytest.mark.database


def day(ahead: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=ahead)).isoformat()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def suite(
    database_dsn: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningSuite]:
    async with travel_suite(
        database_dsn, redis_url, tmp_path_factory.mktemp("travel"), **sandbox_overrides()
    ) as running:
        yield running


@pytest.fixture
async def travel(suite: RunningSuite) -> AsyncIterator[pb_grpc.TravelServiceAsyncStub]:
    async with grpc.aio.insecure_channel(suite.address("travel")) as channel:
        yield pb_grpc.TravelServiceStub(channel)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def ana(suite: RunningSuite) -> Account:
    return await register(suite.address("auth"), "ana")


def assert_sandbox(source: pb.ResultSource) -> None:
    assert source.data_source == pb.DATA_SOURCE_SANDBOX
    assert source.provider == "sandbox"
    assert source.fetch_time.seconds > 0
    assert not source.user_key


async def test_unauthenticated_callers_are_refused(
    travel: pb_grpc.TravelServiceAsyncStub, http: httpx.AsyncClient
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await travel.ListAirports(pb.ListAirportsRequest(query="LIS"))
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    reply = await http.get("/api/v1/airports", params={"query": "LIS"})
    assert reply.status_code == 401


async def test_one_way_flights_are_sandbox_offers_and_deterministic(
    travel: pb_grpc.TravelServiceAsyncStub, ana: Account
) -> None:
    request = pb.SearchFlightsRequest(
        slices=[pb.FlightSlice(origin="lis", destination="LHR", departure_date=day(40))],
        passengers=pb.Passengers(adults=2, child_ages=[7], infants=1),
        cabin_class=cabin_class_pb2.CABIN_CLASS_ECONOMY,
    )
    first = await travel.SearchFlights(request, metadata=ana.metadata)
    assert_sandbox(first.source)
    assert first.offers
    prices = [o.total_price.units + o.total_price.nanos / 1e9 for o in first.offers]
    assert prices == sorted(prices)  # default order: cheapest first
    offer = first.offers[0]
    assert offer.provider == "sandbox"
    assert offer.id.startswith("sbx_off_")
    assert offer.expire_time.seconds > datetime.now(UTC).timestamp()
    assert offer.tax_amount.units > 0
    # Per-passenger prices: children pay less than adults, infants on a lap least.
    each = {p.passenger_type: (p.count, p.price) for p in offer.passenger_prices}
    assert {k: c for k, (c, _) in each.items()} == {"adult": 2, "child": 1, "infant": 1}
    assert each["adult"][1].units > each["child"][1].units > each["infant"][1].units
    summed = sum(c * (p.units + p.nanos / 1e9) for c, p in each.values())
    assert summed == pytest.approx(offer.total_price.units + offer.total_price.nanos / 1e9)
    segment = offer.slices[0].segments[0]
    assert segment.origin == "LIS"
    assert offer.slices[-1].segments[-1].destination == "LHR"
    assert segment.marketing_carrier
    assert segment.flight_number
    assert segment.departure_local_time.startswith(day(40))
    assert segment.arrival_time.seconds > segment.departure_time.seconds
    assert segment.duration.seconds == segment.arrival_time.seconds - segment.departure_time.seconds
    # Same query, same offers (the second one comes from the cache).
    again = await travel.SearchFlights(request, metadata=ana.metadata)
    assert [o.id for o in again.offers] == [o.id for o in first.offers]
    assert [o.total_price for o in again.offers] == [o.total_price for o in first.offers]
    assert again.source.cached
    assert not first.source.cached


async def test_return_and_multi_city_with_filters(
    travel: pb_grpc.TravelServiceAsyncStub, ana: Account
) -> None:
    trip = pb.SearchFlightsRequest(
        slices=[
            pb.FlightSlice(origin="LIS", destination="JFK", departure_date=day(60)),
            pb.FlightSlice(origin="JFK", destination="LIS", departure_date=day(70)),
        ],
        sort_by=pb.FLIGHT_SORT_ORDER_DURATION,
        currency="USD",
    )
    returned = await travel.SearchFlights(trip, metadata=ana.metadata)
    assert returned.offers
    for offer in returned.offers:
        assert [s.origin for s in offer.slices] == ["LIS", "JFK"]
        assert offer.total_price.currency_code == "USD"
    durations = [o.total_duration.seconds for o in returned.offers]
    assert durations == sorted(durations)
    direct = await travel.SearchFlights(
        pb.SearchFlightsRequest(slices=trip.slices, max_stops=0), metadata=ana.metadata
    )
    assert direct.offers
    assert all(o.total_stops == 0 for o in direct.offers)
    no_tap = await travel.SearchFlights(
        pb.SearchFlightsRequest(slices=trip.slices, exclude_airlines=["tp"]), metadata=ana.metadata
    )
    assert no_tap.offers
    assert all(o.owner_airline != "TP" for o in no_tap.offers)
    only_tap = await travel.SearchFlights(
        pb.SearchFlightsRequest(slices=trip.slices, include_airlines=["TP"]), metadata=ana.metadata
    )
    assert only_tap.offers
    assert {o.owner_airline for o in only_tap.offers} == {"TP"}
    legs = [
        pb.FlightSlice(origin="LIS", destination="CDG", departure_date=day(30)),
        pb.FlightSlice(origin="CDG", destination="FCO", departure_date=day(33)),
        pb.FlightSlice(origin="FCO", destination="LIS", departure_date=day(37)),
    ]
    business = cabin_class_pb2.CABIN_CLASS_BUSINESS
    unfiltered = await travel.SearchFlights(
        pb.SearchFlightsRequest(slices=legs, cabin_class=business), metadata=ana.metadata
    )
    # The sandbox's schedule depends on the dates, so the window is taken around the
    # earliest departure it offers: the filter must keep that one and drop earlier ones.
    departures = sorted(
        o.slices[0].segments[0].departure_local_time[11:16] for o in unfiltered.offers
    )
    assert len(departures) >= 2
    assert departures[0] < departures[-1]
    earliest, latest = departures[1], departures[-1]
    legs[0].earliest_departure_time, legs[0].latest_departure_time = earliest, latest
    multi = await travel.SearchFlights(
        pb.SearchFlightsRequest(
            slices=legs,
            cabin_class=business,
            sort_by=pb.FLIGHT_SORT_ORDER_DEPARTURE_TIME,
            max_results=3,
        ),
        metadata=ana.metadata,
    )
    assert 0 < len(multi.offers) <= 3
    for offer in multi.offers:
        assert len(offer.slices) == 3
        assert offer.cabin_class == business
        assert earliest <= offer.slices[0].segments[0].departure_local_time[11:16] <= latest
    cheap = await travel.SearchFlights(
        pb.SearchFlightsRequest(
            slices=trip.slices[:1], max_price={"currency_code": "EUR", "units": 1}
        ),
        metadata=ana.metadata,
    )
    assert list(cheap.offers) == []


async def test_business_costs_more_than_economy(
    travel: pb_grpc.TravelServiceAsyncStub, ana: Account
) -> None:
    def search(cabin: int) -> pb.SearchFlightsRequest:
        return pb.SearchFlightsRequest(
            slices=[pb.FlightSlice(origin="MAD", destination="BCN", departure_date=day(50))],
            cabin_class=cabin,  # type: ignore[arg-type]
        )

    economy = await travel.SearchFlights(
        search(cabin_class_pb2.CABIN_CLASS_ECONOMY), metadata=ana.metadata
    )
    business = await travel.SearchFlights(
        search(cabin_class_pb2.CABIN_CLASS_BUSINESS), metadata=ana.metadata
    )
    assert business.offers[0].total_price.units > economy.offers[0].total_price.units
    far = await travel.SearchFlights(
        pb.SearchFlightsRequest(
            slices=[pb.FlightSlice(origin="MAD", destination="SIN", departure_date=day(50))]
        ),
        metadata=ana.metadata,
    )
    # Fares follow distance.
    assert far.offers[0].total_price.units > economy.offers[0].total_price.units


async def test_get_flight_offer_over_grpc_and_gateway(
    travel: pb_grpc.TravelServiceAsyncStub, http: httpx.AsyncClient, ana: Account
) -> None:
    found = await travel.SearchFlights(
        pb.SearchFlightsRequest(
            slices=[pb.FlightSlice(origin="OPO", destination="AMS", departure_date=day(20))]
        ),
        metadata=ana.metadata,
    )
    wanted = found.offers[1]
    got = await travel.GetFlightOffer(
        pb.GetFlightOfferRequest(offer_id=wanted.id), metadata=ana.metadata
    )
    assert got.offer.id == wanted.id
    assert got.offer.total_price == wanted.total_price
    assert_sandbox(got.source)
    reply = await http.get(f"/api/v1/flights/offers/{wanted.id}", headers=ana.headers)
    assert reply.status_code == 200, reply.text
    assert reply.json()["offer"]["id"] == wanted.id
    assert reply.json()["source"]["dataSource"] == "DATA_SOURCE_SANDBOX"
    missing = await http.get("/api/v1/flights/offers/off_unknown", headers=ana.headers)
    assert missing.status_code == 404
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await travel.GetFlightOffer(
            pb.GetFlightOfferRequest(offer_id="sbx_off_garbage.3"), metadata=ana.metadata
        )
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_flight_search_over_the_gateway(http: httpx.AsyncClient, ana: Account) -> None:
    reply = await http.post(
        "/api/v1/flights:search",
        headers=ana.headers,
        json={
            "slices": [{"origin": "LIS", "destination": "FRA", "departureDate": day(45)}],
            "passengers": {"adults": 1, "childAges": [10]},
            "cabinClass": "CABIN_CLASS_PREMIUM_ECONOMY",
            "sortBy": "FLIGHT_SORT_ORDER_PRICE",
            "maxResults": 5,
        },
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["source"]["dataSource"] == "DATA_SOURCE_SANDBOX"
    assert 0 < len(body["offers"]) <= 5
    segment = body["offers"][0]["slices"][0]["segments"][0]
    assert segment["origin"] == "LIS"
    assert segment["departureTime"].endswith("Z")
    assert body["offers"][0]["totalPrice"]["currencyCode"]


async def test_flight_input_errors_name_each_field(
    travel: pb_grpc.TravelServiceAsyncStub, http: httpx.AsyncClient, ana: Account
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await travel.SearchFlights(
            pb.SearchFlightsRequest(
                slices=[
                    pb.FlightSlice(origin="QQQ", destination="LHR", departure_date="2020-01-01"),
                    pb.FlightSlice(
                        origin="LHR", destination="LHR", departure_date=day(10),
                        earliest_departure_time="25:00",
                    ),
                ],
                passengers=pb.Passengers(adults=1, infants=2, child_ages=[1]),
                max_results=500,
            ),
            metadata=ana.metadata,
        )  # fmt: skip
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    fields = field_violations(caught.value)
    assert "unknown IATA code QQQ" in fields["slices[0].origin"]
    assert fields["slices[0].departure_date"] == "is in the past"
    assert "slices[1].destination" in fields
    assert "slices[1].earliest_departure_time" in fields
    assert "more infants than adults" in fields["passengers.infants"]
    assert "passengers.child_ages[0]" in fields
    assert "max_results" in fields
    reply = await http.post(
        "/api/v1/flights:search",
        headers=ana.headers,
        json={"slices": [{"origin": "LIS", "destination": "XXX", "departureDate": day(5)}]},
    )
    assert reply.status_code == 400
    assert reply.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert "unknown IATA code XXX" in reply.text


async def test_stays_by_place_name_and_by_coordinates(
    travel: pb_grpc.TravelServiceAsyncStub, http: httpx.AsyncClient, ana: Account
) -> None:
    by_name = await travel.SearchAccommodations(
        pb.SearchAccommodationsRequest(
            destination="Lisbon",
            check_in_date=day(30),
            check_out_date=day(33),
            adults=2,
            sort_by=pb.ACCOMMODATION_SORT_ORDER_PRICE,
        ),
        metadata=ana.metadata,
    )
    assert_sandbox(by_name.source)
    assert by_name.accommodations
    stay = by_name.accommodations[0]
    assert stay.id.startswith("sbx_acc_")
    assert "Lisbon" in stay.address
    assert stay.distance_meters <= 5000
    assert abs(stay.location.latitude - 38.72) < 0.1
    nightly = stay.nightly_price.units + stay.nightly_price.nanos / 1e9
    total = stay.total_price.units + stay.total_price.nanos / 1e9
    assert total == pytest.approx(3 * nightly, abs=0.05)
    totals = [a.total_price.units for a in by_name.accommodations]
    assert totals == sorted(totals)
    filtered = await travel.SearchAccommodations(
        pb.SearchAccommodationsRequest(
            location={"latitude": 38.7223, "longitude": -9.1393},
            radius_meters=3000,
            check_in_date=day(30),
            check_out_date=day(32),
            min_review_score=8,
            amenities=["wifi"],
            types=[pb.ACCOMMODATION_TYPE_HOTEL],
            max_nightly_price={"currency_code": "EUR", "units": 400},
        ),
        metadata=ana.metadata,
    )
    for found in filtered.accommodations:
        assert found.review_score >= 8
        assert "wifi" in found.amenities
        assert found.type == pb.ACCOMMODATION_TYPE_HOTEL
        assert found.nightly_price.units < 400
        assert found.distance_meters <= 3000
    reply = await http.post(
        "/api/v1/accommodations:search",
        headers=ana.headers,
        json={"destination": "Porto", "checkInDate": day(30), "checkOutDate": day(31)},
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["accommodations"][0]["provider"] == "sandbox"


async def test_stay_details_with_rates(
    travel: pb_grpc.TravelServiceAsyncStub, http: httpx.AsyncClient, ana: Account
) -> None:
    found = await travel.SearchAccommodations(
        pb.SearchAccommodationsRequest(
            destination="Paris", check_in_date=day(15), check_out_date=day(17)
        ),
        metadata=ana.metadata,
    )
    stay = found.accommodations[0]
    detail = await travel.GetAccommodation(
        pb.GetAccommodationRequest(accommodation_id=stay.id), metadata=ana.metadata
    )
    assert detail.accommodation.name == stay.name
    assert detail.accommodation.rates
    assert any(r.refundable for r in detail.accommodation.rates)
    assert any(not r.refundable for r in detail.accommodation.rates)
    assert all(r.cancellation_policy for r in detail.accommodation.rates)
    reply = await http.get(
        f"/api/v1/accommodations/{stay.id}",
        headers=ana.headers,
        params={"checkInDate": day(20), "checkOutDate": day(25)},
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["accommodation"]["checkInDate"] == day(20)
    missing = await http.get("/api/v1/accommodations/sbx_acc_nope", headers=ana.headers)
    assert missing.status_code == 404
    # Details priced for another party: two rooms, two adults and two children.
    family = await travel.GetAccommodation(
        pb.GetAccommodationRequest(accommodation_id=stay.id, adults=2, child_ages=[4, 9], rooms=2),
        metadata=ana.metadata,
    )
    assert family.accommodation.total_price.units > detail.accommodation.total_price.units
    for bad, field in (
        (pb.GetAccommodationRequest(accommodation_id=stay.id, rooms=2), "adults"),
        (pb.GetAccommodationRequest(accommodation_id=stay.id, adults=1, rooms=2), "rooms"),
        (pb.GetAccommodationRequest(accommodation_id=stay.id, adults=1, child_ages=[18]),
         "child_ages[0]"),
    ):  # fmt: skip
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await travel.GetAccommodation(bad, metadata=ana.metadata)
        assert field in field_violations(caught.value), field


async def test_stay_input_errors(travel: pb_grpc.TravelServiceAsyncStub, ana: Account) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await travel.SearchAccommodations(
            pb.SearchAccommodationsRequest(
                destination="Lisbon", check_in_date=day(10), check_out_date=day(8), rooms=3
            ),
            metadata=ana.metadata,
        )
    fields = field_violations(caught.value)
    assert fields["check_out_date"] == "must be after check_in_date"
    assert "rooms" in fields
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await travel.SearchAccommodations(
            pb.SearchAccommodationsRequest(
                destination="Xyzzyplugh Qwvx", check_in_date=day(10), check_out_date=day(12)
            ),
            metadata=ana.metadata,
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "destination" in field_violations(caught.value)


async def test_places_near_a_city_and_by_text(
    travel: pb_grpc.TravelServiceAsyncStub, http: httpx.AsyncClient, ana: Account
) -> None:
    museums = await travel.SearchPlaces(
        pb.SearchPlacesRequest(query="museums in Lisbon", max_results=5), metadata=ana.metadata
    )
    assert_sandbox(museums.source)
    assert 0 < len(museums.places) <= 5
    for place in museums.places:
        assert "museum" in place.types
        assert 1 <= place.rating <= 5
        assert place.opening_hours
        assert 0 <= place.price_level <= 4
    reply = await http.get(
        "/api/v1/places",
        headers=ana.headers,
        params={"type": "restaurant", "location.latitude": 41.15, "location.longitude": -8.61},
    )
    assert reply.status_code == 200, reply.text
    places = reply.json()["places"]
    assert places
    assert all("restaurant" in p["types"] for p in places)
    assert "Porto" in places[0]["address"]
    bad = await http.get("/api/v1/places", headers=ana.headers)
    assert bad.status_code == 400


async def test_a_place_by_id_with_hours_diets_access_and_typical_prices(
    travel: pb_grpc.TravelServiceAsyncStub, http: httpx.AsyncClient, ana: Account
) -> None:
    found = await travel.SearchPlaces(
        pb.SearchPlacesRequest(query="vegetarian restaurants, museums and sights in Lisbon",
                               max_results=12),
        metadata=ana.metadata,
    )  # fmt: skip
    restaurants = [p for p in found.places if "restaurant" in p.types]
    museums = [p for p in found.places if "museum" in p.types]
    assert restaurants
    assert museums
    assert all("vegetarian" in p.dietary_options for p in restaurants)  # the diet asked for
    for place in found.places:
        got = await travel.GetPlace(pb.GetPlaceRequest(place_id=place.id), metadata=ana.metadata)
        assert got.place == place  # the same place, whichever way it was reached
        assert_sandbox(got.source)
        assert place.opening_periods
        for period in place.opening_periods:
            assert period.open_time.hours < 24
            assert period.close_day in (period.open_day, period.open_day % 7 + 1)
    meal = restaurants[0]
    assert meal.typical_price.start_price.currency_code == "EUR"
    assert 0 < meal.typical_price.start_price.units < meal.typical_price.end_price.units
    # Museums closed on Mondays say so in both forms.
    for museum in museums:
        days = {p.open_day for p in museum.opening_periods}
        assert ("Monday: Closed" in museum.opening_hours) == (1 not in days)
    assert any(p.HasField("accessibility") for p in found.places)
    assert any("tourist_attraction" in p.types for p in found.places)  # ids with underscores

    reply = await http.get(f"/api/v1/places/{meal.id}", headers=ana.headers)
    assert reply.status_code == 200, reply.text
    body = reply.json()["place"]
    assert body["openingPeriods"][0]["openDay"] in ("MONDAY", "SUNDAY")
    assert body["typicalPrice"]["startPrice"]["currencyCode"] == "EUR"
    for unknown in ("sbx_place_0_museum_1", "sbx_place_2267057_nothing_1",
                    "sbx_place_2267057_museum_99999", "ChIJnot-a-sandbox-id"):  # fmt: skip
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await travel.GetPlace(pb.GetPlaceRequest(place_id=unknown), metadata=ana.metadata)
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND, unknown
    for bad in ("", " ", "x" * 201):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await travel.GetPlace(pb.GetPlaceRequest(place_id=bad), metadata=ana.metadata)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "place_id" in field_violations(refused.value)
    nul = await http.get("/api/v1/places/a%00b", headers=ana.headers)
    assert nul.status_code == 400, nul.text


async def test_geocode_and_reverse_geocode(
    travel: pb_grpc.TravelServiceAsyncStub, http: httpx.AsyncClient, ana: Account
) -> None:
    found = await travel.Geocode(
        pb.GeocodeRequest(address="Paris", region_code="us"), metadata=ana.metadata
    )
    assert found.results[0].country_code == "US"  # the region is preferred
    assert any(r.country_code == "FR" for r in found.results)
    reply = await http.get("/api/v1/geocode", headers=ana.headers, params={"address": "Lisbon"})
    assert reply.status_code == 200, reply.text
    first = reply.json()["results"][0]
    assert first["locality"] == "Lisbon"
    assert first["countryCode"] == "PT"
    assert first["location"]["latitude"] == pytest.approx(38.725, abs=0.01)
    reverse = await http.get(
        "/api/v1/geocode/reverse",
        headers=ana.headers,
        params={"location.latitude": 48.8566, "location.longitude": 2.3522, "maxResults": 3},
    )
    assert reverse.status_code == 200, reverse.text
    results = reverse.json()["results"]
    assert len(results) == 3
    assert results[0]["countryCode"] == "FR"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await travel.ReverseGeocode(
            pb.ReverseGeocodeRequest(location={"latitude": 123, "longitude": 0}),
            metadata=ana.metadata,
        )
    assert "location.latitude" in field_violations(caught.value)


async def test_travel_time_by_mode(
    travel: pb_grpc.TravelServiceAsyncStub, http: httpx.AsyncClient, ana: Account
) -> None:
    origin = pb.Waypoint(location={"latitude": 38.7139, "longitude": -9.1334})
    destination = pb.Waypoint(address="Sintra")
    walk = await travel.GetTravelTime(
        pb.GetTravelTimeRequest(origin=origin, destination=destination, mode=pb.TRAVEL_MODE_WALK),
        metadata=ana.metadata,
    )
    drive = await travel.GetTravelTime(
        pb.GetTravelTimeRequest(origin=origin, destination=destination), metadata=ana.metadata
    )
    assert walk.estimated
    assert drive.mode == pb.TRAVEL_MODE_DRIVE
    assert 15_000 < drive.distance_meters < 40_000
    assert walk.duration.seconds > drive.duration.seconds
    assert_sandbox(walk.source)
    reply = await http.post(
        "/api/v1/routes:computeTravelTime",
        headers=ana.headers,
        json={
            "origin": {"address": "Lisbon"},
            "destination": {"address": "Porto"},
            "mode": "TRAVEL_MODE_TRANSIT",
        },
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["mode"] == "TRAVEL_MODE_TRANSIT"
    assert int(reply.json()["distanceMeters"]) > 250_000
    missing = await http.post(
        "/api/v1/routes:computeTravelTime",
        headers=ana.headers,
        json={"origin": {"address": "Lisbon"}},
    )
    assert missing.status_code == 400
    assert "destination" in missing.text


async def test_weather_now_and_daily(
    travel: pb_grpc.TravelServiceAsyncStub, http: httpx.AsyncClient, ana: Account
) -> None:
    reply = await travel.GetWeather(
        pb.GetWeatherRequest(place="Lisbon", start_date=day(1), end_date=day(5)),
        metadata=ana.metadata,
    )
    assert_sandbox(reply.source)
    assert reply.time_zone == "Europe/Lisbon"
    assert reply.place == "Lisbon"
    assert [d.date for d in reply.daily] == [day(n) for n in range(1, 6)]
    for forecast in reply.daily:
        assert forecast.min_temperature_celsius < forecast.max_temperature_celsius
        assert 0 <= forecast.precipitation_probability <= 1
        assert forecast.condition != pb.WEATHER_CONDITION_UNSPECIFIED
        assert forecast.sunrise_time.seconds < forecast.sunset_time.seconds
    assert reply.current.condition != pb.WEATHER_CONDITION_UNSPECIFIED
    beyond = await http.get(
        "/api/v1/weather",
        headers=ana.headers,
        params={"location.latitude": 64.14, "location.longitude": -21.94, "endDate": day(40)},
    )
    assert beyond.status_code == 200, beyond.text
    body = beyond.json()
    assert body["timeZone"] == "Atlantic/Reykjavik"
    assert len(body["daily"]) == 14  # the sandbox's horizon; later days are left out
    past = await http.get(
        "/api/v1/weather",
        headers=ana.headers,
        params={"place": "Lisbon", "startDate": "2020-01-01"},
    )
    assert past.status_code == 400
    assert "startDate" in past.text or "start_date" in past.text


async def test_airports_by_code_name_country_and_distance(
    travel: pb_grpc.TravelServiceAsyncStub, http: httpx.AsyncClient, ana: Account
) -> None:
    lis = await travel.ListAirports(pb.ListAirportsRequest(query="lis"), metadata=ana.metadata)
    first = lis.airports[0]
    assert (first.iata_code, first.icao_code, first.time_zone) == ("LIS", "LPPT", "Europe/Lisbon")
    assert lis.source.provider == "airportsdata"
    london = await travel.ListAirports(pb.ListAirportsRequest(query="LON"), metadata=ana.metadata)
    assert {"LHR", "LGW"} <= {a.iata_code for a in london.airports}
    assert next(a for a in london.airports if a.iata_code == "LHR").city_code == "LON"
    page = await http.get(
        "/api/v1/airports",
        headers=ana.headers,
        params={"countryCode": "PT", "pageSize": 3},
    )
    assert page.status_code == 200, page.text
    body = page.json()
    assert len(body["airports"]) == 3
    assert all(a["countryCode"] == "PT" for a in body["airports"])
    following = await http.get(
        "/api/v1/airports",
        headers=ana.headers,
        params={"countryCode": "PT", "pageSize": 3, "pageToken": body["nextPageToken"]},
    )
    assert {a["iataCode"] for a in following.json()["airports"]}.isdisjoint(
        {a["iataCode"] for a in body["airports"]}
    )
    token = body["nextPageToken"]
    flipped = token[:-5] + ("A" if token[-5] != "A" else "B") + token[-4:]
    for edited in ("3", "-1", flipped):
        refused = await http.get(
            "/api/v1/airports",
            headers=ana.headers,
            params={"countryCode": "PT", "pageSize": 3, "pageToken": edited},
        )
        assert refused.status_code == 400, refused.text
        assert "page_token" in refused.text
    near = await travel.ListAirports(
        pb.ListAirportsRequest(near={"latitude": 51.47, "longitude": -0.45}, page_size=1),
        metadata=ana.metadata,
    )
    assert near.airports[0].iata_code == "LHR"
    bad = await http.get("/api/v1/airports", headers=ana.headers, params={"countryCode": "XX"})
    assert bad.status_code == 400


def _flights(offers: list[dict]) -> dict[tuple[str, ...], dict]:  # type: ignore[type-arg]
    """Offers by what they fly: carrier, flight numbers and departure instants."""
    return {
        tuple(
            f"{s['marketingCarrier']}{s['flightNumber']}@{s['departureTime']}"
            for sl in offer["slices"]
            for s in sl["segments"]
        ): offer
        for offer in offers
    }


async def test_sort_order_and_filters_only_order_and_remove_sandbox_flights(
    http: httpx.AsyncClient, ana: Account
) -> None:
    async def search(**extra: object) -> list[dict]:  # type: ignore[type-arg]
        body = {
            "slices": [{"origin": "LIS", "destination": "LON", "departureDate": day(40)}],
            "passengers": {"adults": 2},
            "currency": "EUR",
            "maxResults": 100,
            **extra,
        }
        reply = await http.post("/api/v1/flights:search", headers=ana.headers, json=body)
        assert reply.status_code == 200, reply.text
        offers: list[dict] = reply.json()["offers"]  # type: ignore[type-arg]
        return offers

    def price(offer: dict) -> float:  # type: ignore[type-arg]
        return float(offer["totalPrice"]["units"]) + offer["totalPrice"].get("nanos", 0) / 1e9

    default = await search()
    by_price = await search(sortBy="FLIGHT_SORT_ORDER_PRICE")
    by_duration = await search(sortBy="FLIGHT_SORT_ORDER_DURATION")
    assert len(default) >= 6
    assert [o["id"] for o in default] == [o["id"] for o in by_price]
    assert sorted(o["id"] for o in by_duration) == sorted(o["id"] for o in by_price)
    durations = [int(o["totalDuration"].rstrip("s")) for o in by_duration]
    assert durations == sorted(durations)
    everything = _flights(by_price)
    cap = sorted(price(o) for o in by_price)[len(by_price) // 2]
    capped = _flights(await search(maxPrice={"currencyCode": "EUR", "units": str(int(cap))}))
    assert capped
    assert set(capped) < set(everything)  # the cap only removes
    assert set(capped) == {key for key, o in everything.items() if price(o) <= int(cap)}
    for key, offer in capped.items():
        assert offer["totalPrice"] == everything[key]["totalPrice"]  # same fares
    windowed = _flights(
        await search(
            slices=[
                {"origin": "LIS", "destination": "LON", "departureDate": day(40),
                 "earliestDepartureTime": "06:00", "latestDepartureTime": "14:00"}
            ]
        )
    )  # fmt: skip
    assert set(windowed) <= set(everything)
    assert all(
        "06:00" <= o["slices"][0]["segments"][0]["departureLocalTime"][11:16] <= "14:00"
        for o in windowed.values()
    )
    # A bigger party or another cabin flies the same schedule.
    business = _flights(await search(cabinClass="CABIN_CLASS_BUSINESS"))
    assert set(business) == set(everything)


async def test_sandbox_weather_says_rain_only_when_some_falls(
    http: httpx.AsyncClient, ana: Account
) -> None:
    wet = {"WEATHER_CONDITION_RAIN", "WEATHER_CONDITION_DRIZZLE", "WEATHER_CONDITION_SNOW",
           "WEATHER_CONDITION_THUNDERSTORM"}  # fmt: skip
    for place in ("Lisbon", "Bergen", "Singapore", "Reykjavik", "Manaus"):
        reply = await http.get(
            "/api/v1/weather",
            headers=ana.headers,
            params={"place": place, "startDate": day(0), "endDate": day(13)},
        )
        assert reply.status_code == 200, reply.text
        for forecast in reply.json()["daily"]:
            rained = forecast["precipitationMm"] > 0
            assert rained == (forecast["condition"] in wet), forecast
            if forecast["description"] == "moderate rain":
                assert forecast["precipitationMm"] >= 2.5, forecast
