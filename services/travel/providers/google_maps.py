"""Google Maps Platform: Places API (New) text search and details, Geocoding API, Routes API.

Places and Routes take the key in `X-Goog-Api-Key` and the wanted fields in
`X-Goog-FieldMask`; Geocoding takes `key=` and answers a `status` of its own.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from google.type import money_pb2, timeofday_pb2

from services.travel.durations import duration, google_seconds
from services.travel.providers.http import (
    ProviderAuthFailed,
    ProviderHttp,
    ProviderRejected,
    ProviderUnavailable,
)
from tripsage.travel.v1 import travel_service_pb2 as pb

NAME = "google_maps"
PLACE_FIELDS = (
    "id", "displayName", "formattedAddress", "location", "types", "rating",
    "userRatingCount", "priceLevel", "priceRange", "websiteUri", "internationalPhoneNumber",
    "regularOpeningHours", "editorialSummary", "servesVegetarianFood", "accessibilityOptions",
)  # fmt: skip
PLACES_FIELD_MASK = ",".join(f"places.{f}" for f in PLACE_FIELDS)  # Text Search
PLACE_FIELD_MASK = ",".join(PLACE_FIELDS)  # Place Details
ROUTES_FIELD_MASK = "routes.duration,routes.distanceMeters"
PRICE_LEVELS = {
    "PRICE_LEVEL_FREE": 0,
    "PRICE_LEVEL_INEXPENSIVE": 1,
    "PRICE_LEVEL_MODERATE": 2,
    "PRICE_LEVEL_EXPENSIVE": 3,
    "PRICE_LEVEL_VERY_EXPENSIVE": 4,
}
TRAVEL_MODES = {
    pb.TRAVEL_MODE_UNSPECIFIED: "DRIVE",
    pb.TRAVEL_MODE_DRIVE: "DRIVE",
    pb.TRAVEL_MODE_WALK: "WALK",
    pb.TRAVEL_MODE_BICYCLE: "BICYCLE",
    pb.TRAVEL_MODE_TRANSIT: "TRANSIT",
}


class GoogleMapsProvider:
    """Implements MapsProvider over three Google Maps Platform APIs."""

    name = NAME

    def __init__(self, places: ProviderHttp, geocoding: ProviderHttp, routes: ProviderHttp) -> None:
        self.places = places
        self.geocoding = geocoding
        self.routes = routes

    async def search_places(
        self, request: pb.SearchPlacesRequest, key: str | None
    ) -> list[pb.Place]:
        body: dict[str, Any] = {
            "textQuery": request.query or request.type,
            "pageSize": request.max_results,
            "languageCode": request.language_code or "en",
        }
        if request.type:
            body["includedType"] = request.type
        if request.HasField("location"):
            body["locationBias"] = {
                "circle": {
                    "center": {
                        "latitude": request.location.latitude,
                        "longitude": request.location.longitude,
                    },
                    "radius": float(request.radius_meters),
                }
            }
        reply = await _post(
            self.places, "/v1/places:searchText", "places.searchText", key, PLACES_FIELD_MASK, body
        )
        return [place_from_google(p) for p in reply.get("places", [])][: request.max_results]

    async def get_place(self, request: pb.GetPlaceRequest, key: str | None) -> pb.Place:
        # Place Details (New): GET /v1/places/{id}, the fields in the same header.
        raw = await self.places.request(
            "GET", f"/v1/places/{quote(request.place_id, safe='')}", operation="places.get",
            idempotent=True, params={"languageCode": request.language_code or "en"},
            headers={"X-Goog-Api-Key": key or "", "X-Goog-FieldMask": PLACE_FIELD_MASK},
        )  # fmt: skip
        return place_from_google(raw)

    async def geocode(self, request: pb.GeocodeRequest, key: str | None) -> list[pb.GeocodeResult]:
        params = {"address": request.address, "key": key or ""}
        if request.region_code:
            params["region"] = request.region_code.lower()
        results = await self._geocoding(params, "geocode")
        return results[: request.max_results]

    async def reverse_geocode(
        self, request: pb.ReverseGeocodeRequest, key: str | None
    ) -> list[pb.GeocodeResult]:
        where = f"{request.location.latitude},{request.location.longitude}"
        results = await self._geocoding({"latlng": where, "key": key or ""}, "reverse_geocode")
        return results[: request.max_results]

    async def _geocoding(self, params: dict[str, str], operation: str) -> list[pb.GeocodeResult]:
        reply = await self.geocoding.request(
            "GET",
            "/maps/api/geocode/json",
            operation=operation,
            idempotent=True,
            params=params,
        )
        status = reply.get("status", "UNKNOWN_ERROR")
        message = reply.get("error_message") or status
        # Geocoding reports most failures in a 200 body.
        if status == "ZERO_RESULTS":
            return []
        if status == "REQUEST_DENIED":
            raise ProviderAuthFailed(NAME, message)
        if status == "INVALID_REQUEST":
            raise ProviderRejected(NAME, message)
        if status in ("OVER_QUERY_LIMIT", "OVER_DAILY_LIMIT", "UNKNOWN_ERROR"):
            raise ProviderUnavailable(NAME, message)
        return [geocode_from_google(r) for r in reply.get("results", [])]

    async def travel_time(
        self, request: pb.GetTravelTimeRequest, key: str | None
    ) -> pb.GetTravelTimeResponse:
        mode = TRAVEL_MODES[request.mode]
        body: dict[str, Any] = {
            "origin": _waypoint(request.origin),
            "destination": _waypoint(request.destination),
            "travelMode": mode,
        }
        if request.HasField("departure_time"):
            body["departureTime"] = request.departure_time.ToJsonString()
        if mode == "DRIVE":
            body["routingPreference"] = "TRAFFIC_AWARE"
        reply = await _post(
            self.routes, "/directions/v2:computeRoutes", "routes.computeRoutes",
            key, ROUTES_FIELD_MASK, body,
        )  # fmt: skip
        routes = reply.get("routes") or []
        if not routes:
            raise ProviderRejected(NAME, "no route found between these points")
        route = routes[0]
        return pb.GetTravelTimeResponse(
            duration=duration(google_seconds(route.get("duration"))),
            distance_meters=int(route.get("distanceMeters") or 0),
            mode=request.mode or pb.TRAVEL_MODE_DRIVE,
            estimated=False,
        )


async def _post(
    http: ProviderHttp, path: str, operation: str, key: str | None, fields: str, body: Any
) -> Any:
    """A Places or Routes API call: a JSON POST with the key and the wanted fields in headers.
    (Both are searches: safe to retry.)"""
    return await http.request(
        "POST", path, operation=operation, idempotent=True,
        headers={"X-Goog-Api-Key": key or "", "X-Goog-FieldMask": fields}, json=body,
    )  # fmt: skip


def _waypoint(point: pb.Waypoint) -> dict[str, Any]:
    which = point.WhichOneof("point")
    if which == "address":
        return {"address": point.address}
    if which == "place_id":
        return {"placeId": point.place_id}
    return {
        "location": {
            "latLng": {"latitude": point.location.latitude, "longitude": point.location.longitude}
        }
    }


def place_from_google(raw: dict[str, Any]) -> pb.Place:
    place = pb.Place(
        id=raw.get("id", ""),
        name=(raw.get("displayName") or {}).get("text", ""),
        address=raw.get("formattedAddress", ""),
        types=raw.get("types", []),
        rating=float(raw.get("rating") or 0),
        user_rating_count=int(raw.get("userRatingCount") or 0),
        price_level=PRICE_LEVELS.get(raw.get("priceLevel") or "", -1),
        website_uri=raw.get("websiteUri", ""),
        phone_number=raw.get("internationalPhoneNumber", ""),
        opening_hours=(raw.get("regularOpeningHours") or {}).get("weekdayDescriptions", []),
        summary=(raw.get("editorialSummary") or {}).get("text", ""),
        opening_periods=[_period(p) for p in (raw.get("regularOpeningHours") or {}).get(
            "periods", []) if isinstance(p, dict) and isinstance(p.get("open"), dict)],
    )  # fmt: skip
    if raw.get("servesVegetarianFood"):  # the only diet Places reports
        place.dietary_options.append("vegetarian")
    access = raw.get("accessibilityOptions")
    if isinstance(access, dict):
        place.accessibility.CopyFrom(pb.PlaceAccessibility(
            wheelchair_accessible_entrance=bool(access.get("wheelchairAccessibleEntrance")),
            wheelchair_accessible_parking=bool(access.get("wheelchairAccessibleParking")),
            wheelchair_accessible_restroom=bool(access.get("wheelchairAccessibleRestroom")),
            wheelchair_accessible_seating=bool(access.get("wheelchairAccessibleSeating")),
        ))  # fmt: skip
    prices = raw.get("priceRange")
    if isinstance(prices, dict) and isinstance(prices.get("startPrice"), dict):
        place.typical_price.start_price.CopyFrom(_money(prices["startPrice"]))
        if isinstance(prices.get("endPrice"), dict):
            place.typical_price.end_price.CopyFrom(_money(prices["endPrice"]))
    location = raw.get("location")
    if location:
        place.location.latitude = float(location.get("latitude", 0))
        place.location.longitude = float(location.get("longitude", 0))
    return place


def _period(raw: dict[str, Any]) -> pb.OpeningPeriod:
    """Google's {open: {day: 0 = Sunday, hour, minute}, close: ...} as DayOfWeek (Sunday 7)."""

    def day(point: dict[str, Any]) -> int:
        number = int(point.get("day", 0) or 0)
        return number if 1 <= number <= 6 else 7

    def time(point: dict[str, Any]) -> timeofday_pb2.TimeOfDay:
        hour, minute = int(point.get("hour", 0) or 0), int(point.get("minute", 0) or 0)
        return timeofday_pb2.TimeOfDay(hours=min(max(hour, 0), 23), minutes=min(max(minute, 0), 59))

    period = pb.OpeningPeriod(open_day=day(raw["open"]), open_time=time(raw["open"]))
    close = raw.get("close")
    if isinstance(close, dict):  # no close: open around the clock
        period.close_day = day(close)
        period.close_time.CopyFrom(time(close))
    return period


def _money(raw: dict[str, Any]) -> money_pb2.Money:
    return money_pb2.Money(
        currency_code=str(raw.get("currencyCode", "")),
        units=int(raw.get("units", 0) or 0),
        nanos=int(raw.get("nanos", 0) or 0),
    )


def geocode_from_google(raw: dict[str, Any]) -> pb.GeocodeResult:
    components = raw.get("address_components", [])

    def component(kind: str, short: bool = False) -> str:
        for c in components:
            if kind in c.get("types", []):
                return str(c.get("short_name" if short else "long_name", ""))
        return ""

    location = (raw.get("geometry") or {}).get("location") or {}
    result = pb.GeocodeResult(
        formatted_address=raw.get("formatted_address", ""),
        place_id=raw.get("place_id", ""),
        locality=component("locality") or component("postal_town"),
        region=component("administrative_area_level_1"),
        country_code=component("country", short=True),
        types=raw.get("types", []),
    )
    result.location.latitude = float(location.get("lat", 0))
    result.location.longitude = float(location.get("lng", 0))
    return result
