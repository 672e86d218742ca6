"""Airport look-up from memory: by code, name or city, in a country, or nearest first."""

from __future__ import annotations

from google.type import latlng_pb2

from services.travel.reference import CITY_CODES, Airport, airports, distance_km, fold
from tripsage.travel.v1 import travel_service_pb2 as pb
from tripsage_core.proto_fields import message_from


def _rank(airport: Airport, text: str, upper: str) -> int | None:
    """Lower is better; None when the airport does not match at all."""
    if airport.iata == upper:
        return 0
    if airport.iata in CITY_CODES.get(upper, ()) or airport.icao == upper:
        return 1
    city, name = fold(airport.city), fold(airport.name)
    if city == text:
        return 2
    if city.startswith(text) or name.startswith(text):
        return 3
    if text in name or text in city:
        return 4
    return None


def search_airports(query: pb.ListAirportsRequest) -> list[Airport]:
    text, upper = fold(query.query), query.query.strip().upper()
    candidates = [
        a for a in airports().values() if not query.country_code or a.country == query.country_code
    ]
    if query.HasField("near"):
        lat, lng = query.near.latitude, query.near.longitude
        if text:
            candidates = [a for a in candidates if _rank(a, text, upper) is not None]
        return sorted(candidates, key=lambda a: distance_km(lat, lng, a.latitude, a.longitude))
    if not text:
        return sorted(candidates, key=lambda a: a.iata)
    ranked = [(rank, a) for a in candidates if (rank := _rank(a, text, upper)) is not None]
    # Airports with an ICAO code are the scheduled-service ones travellers mean.
    ranked.sort(key=lambda pair: (pair[0], not pair[1].icao, pair[1].iata))
    return [a for _, a in ranked]


def airport_message(airport: Airport) -> pb.Airport:
    return message_from(
        pb.Airport,
        airport,
        iata_code=airport.iata,
        icao_code=airport.icao,
        country_code=airport.country,
        location=latlng_pb2.LatLng(latitude=airport.latitude, longitude=airport.longitude),
    )
