"""What the travel service needs from a provider, live or sandbox.

The contract's own messages (tripsage.travel.v1) are the result model: adapters
fill them directly, the cache stores them serialised, and the servicer returns
them. Requests arrive validated and normalised (defaults filled, codes upper-case),
so adapters never re-check input.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import NamedTuple, Protocol

from tripsage.travel.v1 import travel_service_pb2 as pb


class GeoPoint(NamedTuple):
    """A point on the WGS 84 globe, in degrees."""

    latitude: float
    longitude: float


@dataclass(frozen=True)
class WeatherQuery:
    """Weather at a named place, for a day or (with `end`) a range of days."""

    point: GeoPoint
    place: str
    start: date
    end: date | None


class Named(Protocol):
    """Every provider, live or sandbox, says who it is (ResultSource.provider)."""

    name: str


class FlightProvider(Named, Protocol):
    async def search_flights(
        self, request: pb.SearchFlightsRequest, key: str | None
    ) -> list[pb.FlightOffer]: ...

    async def get_flight_offer(self, offer_id: str, key: str | None) -> pb.FlightOffer: ...


class StayProvider(Named, Protocol):
    async def search_stays(
        self, request: pb.SearchAccommodationsRequest, center: GeoPoint, key: str | None
    ) -> list[pb.Accommodation]: ...

    async def get_stay(
        self, request: pb.GetAccommodationRequest, key: str | None
    ) -> pb.Accommodation: ...


class MapsProvider(Named, Protocol):
    async def search_places(
        self, request: pb.SearchPlacesRequest, key: str | None
    ) -> list[pb.Place]: ...

    async def get_place(self, request: pb.GetPlaceRequest, key: str | None) -> pb.Place: ...

    async def geocode(
        self, request: pb.GeocodeRequest, key: str | None
    ) -> list[pb.GeocodeResult]: ...

    async def reverse_geocode(
        self, request: pb.ReverseGeocodeRequest, key: str | None
    ) -> list[pb.GeocodeResult]: ...

    async def travel_time(
        self, request: pb.GetTravelTimeRequest, key: str | None
    ) -> pb.GetTravelTimeResponse: ...


class WeatherProvider(Named, Protocol):
    async def weather(self, query: WeatherQuery, key: str | None) -> pb.GetWeatherResponse: ...
