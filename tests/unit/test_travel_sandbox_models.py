"""The sandbox's models: deterministic, geographic and documented behaviour."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from services.travel.ports import GeoPoint, WeatherQuery
from services.travel.reference import distance_km, find_city, main_airport
from services.travel.sandbox import flights, stays, weather
from services.travel.sandbox.maps import SandboxMaps
from services.travel.sandbox.seeded import from_eur, priced_currency
from tripsage.travel.v1 import travel_service_pb2 as pb
from tripsage_core.money import BUILT_IN_TABLE

TODAY = date(2027, 3, 1)


def search(origin: str, destination: str, ahead: int, **extra: object) -> pb.SearchFlightsRequest:
    return pb.SearchFlightsRequest(
        slices=[
            pb.FlightSlice(
                origin=origin,
                destination=destination,
                departure_date=(TODAY + timedelta(days=ahead)).isoformat(),
            )
        ],
        passengers=pb.Passengers(adults=1),
        cabin_class=1,
        max_results=20,
        **extra,  # type: ignore[arg-type]
    )


def cheapest(offers: list[pb.FlightOffer]) -> float:
    return min(o.total_price.units + o.total_price.nanos / 1e9 for o in offers)


def test_same_query_same_offers() -> None:
    first = flights.generate_offers(search("LIS", "FRA", 30), TODAY)
    again = flights.generate_offers(search("LIS", "FRA", 30), TODAY)
    assert first == again
    assert len({o.id for o in first}) == len(first)


def test_offer_ids_decode_to_their_query() -> None:
    request = search("OPO", "LHR", 12)
    offer = flights.generate_offers(request, TODAY)[2]
    decoded = flights.decode_offer_id(offer.id)
    # The id keeps what the flights depend on; filters and order are not part of it.
    assert decoded == (flights.schedule_query(request), 2)
    assert flights.schedule_query(request).max_results == 0
    assert flights.decode_offer_id("sbx_off_%%%.1") is None
    assert flights.decode_offer_id("off_123") is None


def test_fares_follow_distance_and_booking_window() -> None:
    short = cheapest(flights.generate_offers(search("LIS", "MAD", 60), TODAY))
    long = cheapest(flights.generate_offers(search("LIS", "GRU", 60), TODAY))
    late = cheapest(flights.generate_offers(search("LIS", "MAD", 1), TODAY))
    assert long > 3 * short
    assert late > short
    assert flights.booking_window_factor(1) > flights.booking_window_factor(45)


def test_schedules_respect_time_zones_and_block_times() -> None:
    offer = next(
        o for o in flights.generate_offers(search("LHR", "JFK", 10), TODAY) if o.total_stops == 0
    )
    segment = offer.slices[0].segments[0]
    lhr, jfk = main_airport("LHR"), main_airport("JFK")
    assert lhr is not None
    assert jfk is not None
    km = distance_km(lhr.latitude, lhr.longitude, jfk.latitude, jfk.longitude)
    assert abs(segment.duration.seconds / 60 - (30 + km / 800 * 60)) <= 5
    departs_utc = datetime.fromtimestamp(segment.departure_time.seconds, UTC)
    local = datetime.fromisoformat(segment.departure_local_time)
    assert (local - departs_utc.replace(tzinfo=None)) == timedelta(hours=0)  # London, 11 March: UTC
    arrival_local = datetime.fromisoformat(segment.arrival_local_time)
    arrives_utc = datetime.fromtimestamp(segment.arrival_time.seconds, UTC).replace(tzinfo=None)
    assert arrives_utc - arrival_local == timedelta(hours=5)  # New York, 11 March: UTC-5


def test_city_codes_fly_from_the_main_airport() -> None:
    offers = flights.generate_offers(search("LON", "PAR", 20), TODAY)
    assert offers
    assert all(o.slices[0].segments[0].origin == "LHR" for o in offers)


async def test_stays_are_around_the_city_centre_and_stable() -> None:
    lisbon = find_city("Lisbon")
    assert lisbon is not None
    request = pb.SearchAccommodationsRequest(
        check_in_date="2027-07-01", check_out_date="2027-07-04", adults=2, rooms=1,
        radius_meters=10000,
    )  # fmt: skip
    center = GeoPoint(lisbon.latitude, lisbon.longitude)
    found = await stays.SandboxStays().search_stays(request, center, None)
    assert len(found) == stays.STAYS_PER_CITY  # all within 6 km of the centre
    again = await stays.SandboxStays().search_stays(request, center, None)
    assert found == again
    summer = found[0].nightly_price.units
    request.check_in_date, request.check_out_date = "2027-02-01", "2027-02-04"
    winter = (await stays.SandboxStays().search_stays(request, center, None))[0]
    assert winter.nightly_price.units < summer  # the season factor
    parsed = stays.parse_stay_id(found[3].id)
    assert parsed is not None
    assert parsed[0] == lisbon
    assert parsed[1] == 3


def test_weather_model_follows_seasons_and_latitude() -> None:
    assert weather.mean_temperature(60, date(2027, 7, 20)) > weather.mean_temperature(
        60, date(2027, 1, 20)
    )
    assert weather.mean_temperature(-34, date(2027, 1, 18)) > weather.mean_temperature(
        -34, date(2027, 7, 18)
    )
    assert weather.mean_temperature(1, date(2027, 1, 1)) > weather.mean_temperature(
        52, date(2027, 1, 1)
    )
    sunrise, sunset = weather.sun_times(60, 0, date(2027, 6, 21))
    assert (sunset - sunrise) > timedelta(hours=17)
    sunrise, sunset = weather.sun_times(60, 0, date(2027, 12, 21))
    assert (sunset - sunrise) < timedelta(hours=7)
    assert weather.weather_code(0.6, 0, 2.0) == (600, "light snow")
    assert weather.weather_code(0.9, 30, 8.0) == (211, "thunderstorm")
    assert weather.weather_code(0.1, 20, 0.0) == (800, "clear sky")


def test_the_weather_says_rain_only_when_some_falls() -> None:
    wet = {pb.WEATHER_CONDITION_RAIN, pb.WEATHER_CONDITION_DRIZZLE,
           pb.WEATHER_CONDITION_SNOW, pb.WEATHER_CONDITION_THUNDERSTORM}  # fmt: skip
    seen = set()
    for latitude in range(-60, 71, 10):
        for offset in range(0, 365, 3):
            point = GeoPoint(latitude, 10.0)
            query = WeatherQuery(point, "", date(2027, 1, 1), None)
            forecast = weather.daily(query, date(2027, 1, 1) + timedelta(days=offset))
            seen.add(forecast.description)
            if forecast.condition in wet:
                assert forecast.precipitation_mm > 0, forecast
            else:
                assert forecast.precipitation_mm == 0, forecast
            if forecast.description == "moderate rain":
                assert 2.5 <= forecast.precipitation_mm < 7.6, forecast
    assert {"clear sky", "broken clouds", "light drizzle", "light rain"} <= seen


async def test_weather_forecast_stops_at_the_horizon() -> None:
    today = datetime.now(UTC).date()
    reply = await weather.SandboxWeather().weather(
        WeatherQuery(GeoPoint(38.7, -9.1), "Lisbon", today, today + timedelta(days=30)), None
    )
    assert len(reply.daily) == weather.HORIZON_DAYS
    assert reply.daily[0].date == today.isoformat()


async def test_sandbox_maps_resolve_their_own_ids() -> None:
    maps = SandboxMaps()
    found = await maps.geocode(pb.GeocodeRequest(address="Porto", max_results=1), None)
    parks = pb.SearchPlacesRequest(query="parks in Porto", max_results=2)
    place = (await maps.search_places(parks, None))[0]
    route = await maps.travel_time(
        pb.GetTravelTimeRequest(
            origin=pb.Waypoint(place_id=found[0].place_id),
            destination=pb.Waypoint(place_id=place.id),
            mode=pb.TRAVEL_MODE_BICYCLE,
        ),
        None,
    )
    assert route.estimated
    assert 0 < route.distance_meters < 6000


def test_sandbox_prices_convert_with_the_one_shared_rate_table() -> None:
    for currency in ("USD", "GBP", "JPY", "KRW", "MAD"):
        assert priced_currency(currency) == currency
        back = BUILT_IN_TABLE.convert(Decimal(str(from_eur(100.0, currency))), currency, "EUR")
        assert back is not None
        assert abs(back - 100) < Decimal("0.0001")
    assert priced_currency("XXX") == "EUR"
