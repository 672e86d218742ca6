"""Airport look-up from memory: by code, name or city, in a country, or nearest first."""

from __future__ import annotations

import functools

from google.type import latlng_pb2

from services.travel.reference import (
    CITY_CODES,
    Airport,
    airports,
    cities_called,
    distance_km,
    fold,
)
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
    ranked.sort(key=lambda pair: (pair[0], *_prominence(pair[1])))
    return [a for _, a in ranked]


def _prominence(airport: Airport) -> tuple[int, int, bool, bool, str]:
    """Among equally good matches, the airport a traveller means first: a metropolitan
    area's own order (LHR before LCY), then the more populous city it is listed for
    (Dublin, Ireland before Dublin, Georgia), then an international airport, then
    scheduled service (an ICAO code), then the code."""
    metro = next((m.index(airport.iata) for m in CITY_CODES.values() if airport.iata in m), 99)
    international = "international" in airport.name.lower()
    people = _population(airport.city, airport.country)
    return metro, -people, not international, not airport.icao, airport.iata


@functools.cache
def _population(city: str, country: str) -> int:
    return next((c.population for c in cities_called(city) if c.country == country), 0)


def airport_message(airport: Airport) -> pb.Airport:
    return message_from(
        pb.Airport,
        airport,
        iata_code=airport.iata,
        icao_code=airport.icao,
        country_code=airport.country,
        location=latlng_pb2.LatLng(latitude=airport.latitude, longitude=airport.longitude),
    )
