"""Travel request validation: every bad field reported at once, defaults filled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.travel import validation
from tripsage.common.v1 import cabin_class_pb2
from tripsage.travel.v1 import travel_service_pb2 as pb
from tripsage_core import page_tokens
from tripsage_core.errors import InvalidArgument


def day(ahead: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=ahead)).isoformat()


def fields(error: pytest.ExceptionInfo[InvalidArgument]) -> dict[str, str]:
    return {v.field: v.description for v in error.value.violations}


def test_flight_defaults_and_normalisation() -> None:
    out = validation.flights(
        pb.SearchFlightsRequest(
            slices=[pb.FlightSlice(origin=" lis", destination="lon", departure_date=day(9))],
            include_airlines=["tp", "ba", "TP"],
            max_price={"currency_code": "eur", "units": 500},
        )
    )
    assert (out.slices[0].origin, out.slices[0].destination) == ("LIS", "LON")
    assert out.passengers.adults == 1
    assert out.cabin_class == cabin_class_pb2.CABIN_CLASS_ECONOMY
    assert out.max_results == 20
    assert list(out.include_airlines) == ["BA", "TP"]
    assert out.currency == "EUR"  # max_price sets the currency


def test_flight_errors_are_all_reported() -> None:
    with pytest.raises(InvalidArgument) as caught:
        validation.flights(
            pb.SearchFlightsRequest(
                slices=[
                    pb.FlightSlice(origin="LIS", destination="OPO", departure_date=day(10)),
                    pb.FlightSlice(origin="OPO", destination="LIS", departure_date=day(5)),
                    pb.FlightSlice(origin="12", destination="LIS", departure_date="tomorrow"),
                ],
                passengers=pb.Passengers(adults=0, child_ages=[5]),
                max_stops=7,
                currency="EUR",
                max_price={"currency_code": "USD", "units": 10},
                exclude_airlines=["TAP"],
            )
        )
    found = fields(caught)
    assert found["slices[1].departure_date"] == "must not be before the previous slice's"
    assert "3-letter IATA" in found["slices[2].origin"]
    assert "date like" in found["slices[2].departure_date"]
    assert found["passengers.adults"] == "at least one adult must travel"
    assert "max_stops" in found
    assert found["max_price.currency_code"] == "must match currency"
    assert "exclude_airlines[0]" in found


def test_today_is_never_in_the_past_somewhere_on_earth() -> None:
    out = validation.flights(
        pb.SearchFlightsRequest(
            slices=[pb.FlightSlice(origin="LIS", destination="OPO", departure_date=day(0))]
        )
    )
    assert out.slices[0].departure_date == day(0)
    with pytest.raises(InvalidArgument) as caught:
        validation.flights(
            pb.SearchFlightsRequest(
                slices=[pb.FlightSlice(origin="LIS", destination="OPO", departure_date=day(400))]
            )
        )
    assert "days ahead" in fields(caught)["slices[0].departure_date"]


def test_stay_rules() -> None:
    out = validation.stays(
        pb.SearchAccommodationsRequest(
            destination="  Lisbon   Portugal ",
            check_in_date=day(3),
            check_out_date=day(5),
            amenities=["Pool", "wifi", "pool"],
        )
    )
    assert out.destination == "Lisbon Portugal"
    assert (out.adults, out.rooms, out.radius_meters) == (1, 1, 5000)
    assert list(out.amenities) == ["pool", "wifi"]
    with pytest.raises(InvalidArgument) as caught:
        validation.stays(
            pb.SearchAccommodationsRequest(
                check_in_date=day(3),
                check_out_date=day(40),
                child_ages=[19],
                min_review_score=11,
                currency="EURO",
            )
        )
    found = fields(caught)
    assert found["destination"] == "give a destination or a location"
    assert "30 nights" in found["check_out_date"]
    assert "child_ages[0]" in found
    assert "min_review_score" in found
    assert "ISO 4217" in found["currency"]


def test_places_geocode_weather_and_travel_time_rules() -> None:
    with pytest.raises(InvalidArgument) as caught:
        validation.places(pb.SearchPlacesRequest(type="museum", max_results=60))
    assert set(fields(caught)) == {"location", "max_results"}
    assert validation.geocode(pb.GeocodeRequest(address="Porto")).max_results == 5
    with pytest.raises(InvalidArgument) as caught:
        validation.geocode(pb.GeocodeRequest(address="Porto", region_code="XX"))
    assert "region_code" in fields(caught)
    query, start, end = validation.weather(pb.GetWeatherRequest(place="Lisbon"))
    assert start == datetime.now(UTC).date()
    assert end is None
    assert query.start_date == start.isoformat()
    with pytest.raises(InvalidArgument) as caught:
        validation.weather(pb.GetWeatherRequest(place="Lisbon", start_date=day(5), end_date=day(2)))
    assert "end_date" in fields(caught)
    with pytest.raises(InvalidArgument) as caught:
        validation.travel_time(
            pb.GetTravelTimeRequest(origin=pb.Waypoint(location={"latitude": 95, "longitude": 0}))
        )
    assert set(fields(caught)) == {"origin.location.latitude", "destination"}


def test_airport_paging_tokens() -> None:
    first, _ = validation.airports(pb.ListAirportsRequest(country_code="pt"))
    token = page_tokens.encode_token({"o": 40}, validation.airports_fingerprint(first))
    out, offset = validation.airports(pb.ListAirportsRequest(page_token=token, country_code="pt"))
    assert (offset, out.page_size, out.country_code) == (40, 20, "PT")
    for bad in ("40", "abc", token[:-2] + "xx"):
        with pytest.raises(InvalidArgument) as caught:
            validation.airports(pb.ListAirportsRequest(page_token=bad, page_size=101))
        assert set(fields(caught)) == {"page_token", "page_size"}
    with pytest.raises(InvalidArgument) as caught:  # another country's token
        validation.airports(pb.ListAirportsRequest(page_token=token, country_code="ES"))
    assert set(fields(caught)) == {"page_token"}
