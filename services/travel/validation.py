"""Checks every travel request and fills its defaults, reporting all bad fields at once.

Each function returns a normalised copy (codes upper-case, defaults set), so equal
questions look equal to the cache and adapters receive well-formed input only.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from google.protobuf.message import Message
from google.type.money_pb2 import Money

from services.travel.ports import GeoPoint
from services.travel.reference import is_country_code, is_known_location_code
from tripsage.common.v1 import cabin_class_pb2
from tripsage.travel.v1 import travel_service_pb2 as pb
from tripsage_core import page_tokens
from tripsage_core.errors import FieldErrors, InvalidArgument
from tripsage_core.money import from_proto, is_currency, money_problems
from tripsage_core.validators.dates import parse_date
from tripsage_core.validators.geo import check_lat_lng

MAX_SLICES = 6
MAX_PASSENGERS = 9
MAX_NIGHTS = 30
MAX_DAYS_AHEAD = 365
MAX_TEXT = 300  # a place name, address or free-text query
MAX_ID = 200  # a provider's offer, stay or place id
MAX_AMENITIES = 30
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_IATA = re.compile(r"^[A-Z]{3}$")
_AIRLINE = re.compile(r"^[A-Z0-9]{2}$")
_PLACE_TYPE = re.compile(r"^[a-z_]{2,40}$")


def earliest_today() -> date:
    """The date it still is somewhere on Earth (UTC-12), so no traveller's today is 'past'."""
    return (datetime.now(UTC) - timedelta(hours=12)).date()


def parse_day(value: str, field: str, errors: FieldErrors, *, required: bool = True) -> date | None:
    if not value:
        if required:
            errors.add(field, "is required, as a date like 2027-05-01")
        return None
    day = parse_date(value, field, errors)
    if day is None:
        return None
    if day < earliest_today():
        errors.add(field, "is in the past")
        return None
    if day > earliest_today() + timedelta(days=MAX_DAYS_AHEAD + 1):
        errors.add(field, f"is more than {MAX_DAYS_AHEAD} days ahead")
        return None
    return day


def _copy[M: Message](request: M) -> M:
    """The copy a check normalises, so the caller's request stays as it was sent."""
    out = type(request)()
    out.CopyFrom(request)
    return out


def _checked[M: Message](check: Callable[[M, FieldErrors], None]) -> Callable[[M], M]:
    """A validator from `check`, which normalises a copy of the request in place and adds
    every bad field to `errors`: the copy, or INVALID_ARGUMENT naming them all."""

    @functools.wraps(check)
    def validate(request: M) -> M:
        errors = FieldErrors()
        out = _copy(request)
        check(out, errors)
        errors.raise_if_any()
        return out

    return validate


def _required(value: str, most: int, field: str, errors: FieldErrors) -> None:
    if not value:
        errors.add(field, "is required")
    _text(value, most, field, errors)


def _text(value: str, most: int, field: str, errors: FieldErrors) -> None:
    if len(value) > most:
        errors.add(field, f"at most {most} characters")


def _limit(value: int, default: int, most: int, field: str, errors: FieldErrors) -> int:
    if value < 0 or value > most:
        errors.add(field, f"must be between 1 and {most}")
        return default
    return value or default


def _currency(value: str, field: str, errors: FieldErrors) -> str:
    code = value.strip().upper()
    if code and not is_currency(code):
        errors.add(field, "must be an ISO 4217 currency code such as EUR")
    return code


def _country(value: str, field: str, errors: FieldErrors) -> str:
    code = value.strip().upper()
    if code and not is_country_code(code):
        errors.add(field, "must be an ISO 3166-1 alpha-2 code such as PT")
    return code


def _price_cap(price: Money, field: str, currency: str, errors: FieldErrors) -> str:
    """Check a price limit (normalising its code in place) against the request's `currency`;
    returns the currency the search then uses: the request's, else the limit's."""
    price.currency_code = price.currency_code.strip().upper()
    money_problems(from_proto(price), field, errors, positive=True)
    if currency and price.currency_code and currency != price.currency_code:
        errors.add(f"{field}.currency_code", "must match currency")
    return currency or price.currency_code


def _point(point: object, field: str, errors: FieldErrors) -> GeoPoint:
    lat, lng = point.latitude, point.longitude  # type: ignore[attr-defined]
    check_lat_lng(lat, lng, field, errors)
    return GeoPoint(lat, lng)


@_checked
def flights(out: pb.SearchFlightsRequest, errors: FieldErrors) -> None:
    if not out.slices:
        errors.add("slices", "give at least one slice (origin, destination, departure_date)")
    if len(out.slices) > MAX_SLICES:
        errors.add("slices", f"at most {MAX_SLICES} slices")
    previous: date | None = None
    for index, item in enumerate(out.slices):
        where = f"slices[{index}]"
        item.origin = item.origin.strip().upper()
        item.destination = item.destination.strip().upper()
        for name in ("origin", "destination"):
            code = getattr(item, name)
            if not _IATA.match(code):
                errors.add(f"{where}.{name}", "must be a 3-letter IATA airport or city code")
            elif not is_known_location_code(code):
                errors.add(f"{where}.{name}", f"unknown IATA code {code}")
        if item.origin and item.origin == item.destination:
            errors.add(f"{where}.destination", "must differ from the origin")
        day = parse_day(item.departure_date, f"{where}.departure_date", errors)
        if day is not None:
            if previous is not None and day < previous:
                errors.add(f"{where}.departure_date", "must not be before the previous slice's")
            previous = day
        for name in ("earliest_departure_time", "latest_departure_time"):
            value = getattr(item, name)
            if value and not _TIME.match(value):
                errors.add(f"{where}.{name}", "must be a time like 08:30")
        if (
            _TIME.match(item.earliest_departure_time)
            and _TIME.match(item.latest_departure_time)
            and item.earliest_departure_time > item.latest_departure_time
        ):
            errors.add(f"{where}.latest_departure_time", "must not be before the earliest")
    passengers = out.passengers
    if not out.HasField("passengers") or (
        passengers.adults == 0 and not passengers.child_ages and not passengers.infants
    ):
        passengers.adults = 1
    if passengers.adults < 1:
        errors.add("passengers.adults", "at least one adult must travel")
    for index, age in enumerate(passengers.child_ages):
        if not 2 <= age <= 17:
            errors.add(f"passengers.child_ages[{index}]", "a child is 2 to 17 (infants: under 2)")
    if passengers.infants < 0:
        errors.add("passengers.infants", "must not be negative")
    elif passengers.infants > passengers.adults:
        errors.add("passengers.infants", "more infants than adults: each sits on an adult's lap")
    if passengers.adults + len(passengers.child_ages) > MAX_PASSENGERS:
        errors.add("passengers", f"at most {MAX_PASSENGERS} seated passengers per search")
    if out.cabin_class == cabin_class_pb2.CABIN_CLASS_UNSPECIFIED:
        out.cabin_class = cabin_class_pb2.CABIN_CLASS_ECONOMY
    if out.HasField("max_stops") and not 0 <= out.max_stops <= 3:
        errors.add("max_stops", "must be between 0 and 3")
    out.currency = _currency(out.currency, "currency", errors)
    if out.HasField("max_price"):
        out.currency = _price_cap(out.max_price, "max_price", out.currency, errors)
    for name in ("include_airlines", "exclude_airlines"):
        codes = [c.strip().upper() for c in getattr(out, name)]
        for index, code in enumerate(codes):
            if not _AIRLINE.match(code):
                errors.add(f"{name}[{index}]", "must be a 2-character IATA airline code")
        del getattr(out, name)[:]
        getattr(out, name).extend(sorted(set(codes)))
    out.max_results = _limit(out.max_results, 20, 100, "max_results", errors)


def offer_id(value: str) -> str:
    errors = FieldErrors()
    _required(value.strip(), MAX_ID, "offer_id", errors)
    errors.raise_if_any()
    return value.strip()


@_checked
def stays(out: pb.SearchAccommodationsRequest, errors: FieldErrors) -> None:
    out.destination = " ".join(out.destination.split())
    if out.HasField("location"):
        _point(out.location, "location", errors)
        out.destination = ""
    elif not out.destination:
        errors.add("destination", "give a destination or a location")
    _text(out.destination, MAX_TEXT, "destination", errors)
    if out.radius_meters < 0 or out.radius_meters > 50000:
        errors.add("radius_meters", "must be between 100 and 50000")
    out.radius_meters = max(100, out.radius_meters or 5000)
    check_in = parse_day(out.check_in_date, "check_in_date", errors)
    check_out = parse_day(out.check_out_date, "check_out_date", errors)
    if check_in and check_out:
        if check_out <= check_in:
            errors.add("check_out_date", "must be after check_in_date")
        elif (check_out - check_in).days > MAX_NIGHTS:
            errors.add("check_out_date", f"stays are at most {MAX_NIGHTS} nights")
    _party(out, errors)
    out.currency = _currency(out.currency, "currency", errors)
    if out.HasField("max_nightly_price"):
        out.currency = _price_cap(out.max_nightly_price, "max_nightly_price", out.currency, errors)
    if not 0 <= out.min_review_score <= 10:
        errors.add("min_review_score", "must be between 0 and 10")
    amenities = sorted({a.strip().lower() for a in out.amenities if a.strip()})
    if len(amenities) > MAX_AMENITIES:
        errors.add("amenities", f"at most {MAX_AMENITIES} amenities")
    for index, amenity in enumerate(amenities):
        _text(amenity, 50, f"amenities[{index}]", errors)
    del out.amenities[:]
    out.amenities.extend(amenities)
    kinds = sorted(set(out.types))
    del out.types[:]
    out.types.extend(kinds)
    out.max_results = _limit(out.max_results, 20, 100, "max_results", errors)


@_checked
def stay(out: pb.GetAccommodationRequest, errors: FieldErrors) -> None:
    out.accommodation_id = out.accommodation_id.strip()
    _required(out.accommodation_id, MAX_ID, "accommodation_id", errors)
    if out.check_in_date or out.check_out_date:
        check_in = parse_day(out.check_in_date, "check_in_date", errors)
        check_out = parse_day(out.check_out_date, "check_out_date", errors)
        if check_in and check_out and check_out <= check_in:
            errors.add("check_out_date", "must be after check_in_date")
    _party(out, errors, defaults=False)
    out.currency = _currency(out.currency, "currency", errors)


def _party(
    out: pb.SearchAccommodationsRequest | pb.GetAccommodationRequest,
    errors: FieldErrors,
    *,
    defaults: bool = True,
) -> None:
    """Who stays: adults (default 1), children's ages, rooms (default 1, each with an
    adult). Without `defaults` (GetAccommodation), unset ones stay unset: the searched."""
    if out.adults < 0 or out.adults > MAX_PASSENGERS:
        errors.add("adults", f"must be between 1 and {MAX_PASSENGERS}")
    if not defaults and not out.adults:
        if out.rooms or out.child_ages:
            errors.add("adults", "is required with rooms or child_ages")
        return
    out.adults = out.adults or 1
    if len(out.child_ages) > MAX_PASSENGERS:
        errors.add("child_ages", f"at most {MAX_PASSENGERS} children")
    for index, age in enumerate(out.child_ages):
        if not 0 <= age <= 17:
            errors.add(f"child_ages[{index}]", "a child is 0 to 17")
    if out.rooms < 0 or out.rooms > out.adults:
        errors.add("rooms", "every room needs an adult")
    out.rooms = out.rooms or 1


@_checked
def place_id(out: pb.GetPlaceRequest, errors: FieldErrors) -> None:
    out.place_id = out.place_id.strip()
    _required(out.place_id, MAX_ID, "place_id", errors)
    out.language_code = out.language_code.strip() or "en"
    _text(out.language_code, 35, "language_code", errors)


def airports(request: pb.ListAirportsRequest) -> tuple[pb.ListAirportsRequest, int]:
    """The normalised request and the offset its page token stands for."""
    errors = FieldErrors()
    out = _copy(request)
    out.page_size = _limit(out.page_size, 20, 100, "page_size", errors)
    out.query = " ".join(out.query.split())
    _text(out.query, MAX_TEXT, "query", errors)
    out.country_code = _country(out.country_code, "country_code", errors)
    if out.HasField("near"):
        _point(out.near, "near", errors)
    offset = 0
    if out.page_token:
        try:
            position = page_tokens.decode_token(out.page_token, airports_fingerprint(out))
            offset = int(page_tokens.token_field(position, "o"))
        except InvalidArgument as bad:
            errors.violations.extend(bad.violations)
    errors.raise_if_any()
    return out, offset


def airports_fingerprint(request: pb.ListAirportsRequest) -> str:
    """What an airports page token is bound to: the filters, not the page size."""
    near = f"{request.near.latitude},{request.near.longitude}" if request.HasField("near") else ""
    return f"airports|{request.query}|{request.country_code}|{near}"


@_checked
def places(out: pb.SearchPlacesRequest, errors: FieldErrors) -> None:
    out.query = " ".join(out.query.split())
    out.type = out.type.strip().lower()
    if not out.query and not out.type:
        errors.add("query", "say what to look for, e.g. 'museums in Lisbon'")
    _text(out.query, MAX_TEXT, "query", errors)
    if out.type and not _PLACE_TYPE.match(out.type):
        errors.add("type", "must be a place type such as museum or restaurant")
    if out.type and not out.query and not out.HasField("location"):
        errors.add("location", "is required when searching by type alone")
    if out.HasField("location"):
        _point(out.location, "location", errors)
    if out.radius_meters < 0 or out.radius_meters > 50000:
        errors.add("radius_meters", "must be between 1 and 50000")
    out.radius_meters = out.radius_meters or 5000
    out.max_results = _limit(out.max_results, 20, 50, "max_results", errors)
    out.language_code = out.language_code.strip() or "en"
    _text(out.language_code, 35, "language_code", errors)  # BCP 47 tags fit in 35


@_checked
def geocode(out: pb.GeocodeRequest, errors: FieldErrors) -> None:
    out.address = " ".join(out.address.split())
    _required(out.address, MAX_TEXT, "address", errors)
    out.region_code = _country(out.region_code, "region_code", errors)
    out.max_results = _limit(out.max_results, 5, 20, "max_results", errors)


@_checked
def reverse_geocode(out: pb.ReverseGeocodeRequest, errors: FieldErrors) -> None:
    if not out.HasField("location"):
        errors.add("location", "is required")
    else:
        _point(out.location, "location", errors)
        # Coordinates to ~11 m: nearby look-ups share one cache entry.
        out.location.latitude = round(out.location.latitude, 4)
        out.location.longitude = round(out.location.longitude, 4)
    out.max_results = _limit(out.max_results, 5, 20, "max_results", errors)


def weather(request: pb.GetWeatherRequest) -> tuple[pb.GetWeatherRequest, date, date | None]:
    errors = FieldErrors()
    out = _copy(request)
    out.place = " ".join(out.place.split())
    if out.HasField("location"):
        _point(out.location, "location", errors)
        out.location.latitude = round(out.location.latitude, 3)
        out.location.longitude = round(out.location.longitude, 3)
    elif not out.place:
        errors.add("place", "give a place or a location")
    _text(out.place, MAX_TEXT, "place", errors)
    start = parse_day(out.start_date, "start_date", errors, required=False)
    end = parse_day(out.end_date, "end_date", errors, required=False)
    start = start or datetime.now(UTC).date()
    if end is not None and end < start:
        errors.add("end_date", "must not be before start_date")
    errors.raise_if_any()
    out.start_date = start.isoformat()
    return out, start, end


@_checked
def travel_time(out: pb.GetTravelTimeRequest, errors: FieldErrors) -> None:
    for name in ("origin", "destination"):
        point: pb.Waypoint = getattr(out, name)
        which = point.WhichOneof("point")
        if which is None:
            errors.add(name, "give an address, a location or a place id")
        elif which == "location":
            _point(point.location, f"{name}.location", errors)
        elif which == "address" and not point.address.strip():
            errors.add(f"{name}.address", "must not be empty")
        elif which == "place_id" and not point.place_id.strip():
            errors.add(f"{name}.place_id", "must not be empty")
        _text(point.address, MAX_TEXT, f"{name}.address", errors)
        _text(point.place_id, MAX_ID, f"{name}.place_id", errors)
    if out.mode not in pb.TravelMode.values():
        errors.add("mode", "unknown travel mode")
    out.mode = out.mode or pb.TRAVEL_MODE_DRIVE
