"""Itinerary conflicts, the budget summary and its rate table, without a database."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from services.trips.items import ItineraryItem, validate_item
from services.trips.model import Money, Trip
from services.trips.planning import find_conflicts, summarize
from tripsage_core.errors import InvalidArgument
from tripsage_core.money import (
    BUILT_IN_SOURCE,
    CONFIGURED_SOURCE,
    RateTableError,
    rate_table,
)

LISBON = ZoneInfo("Europe/Lisbon")


def _trip(**fields: object) -> Trip:
    values: dict[str, object] = {
        "id": "trip-1",
        "title": "Lisbon",
        "start_date": date(2027, 5, 1),
        "end_date": date(2027, 5, 3),
        "budget": Money("EUR", 1000),
    }
    values.update(fields)
    return Trip(**values)  # type: ignore[arg-type]


def _item(
    item_id: str, kind: str, start: datetime | None, end: datetime | None, **extra: object
) -> ItineraryItem:
    return ItineraryItem(
        id=item_id, kind=kind, title=item_id, start_time=start, end_time=end,
        time_zone="Europe/Lisbon", **extra,  # type: ignore[arg-type]
    )  # fmt: skip


def _at(day: int, hour: int) -> datetime:
    return datetime(2027, 5, day, hour, tzinfo=LISBON)


def test_overlaps_days_outside_and_missing_nights_are_found() -> None:
    items = [
        _item("museum", "activity", _at(1, 10), _at(1, 12)),
        _item("lunch", "meal", _at(1, 11), _at(1, 13)),  # overlaps the museum
        _item("dinner", "meal", _at(1, 20), _at(1, 22)),
        _item("hotel", "accommodation", _at(1, 15), _at(2, 11)),  # covers the 1st only
        _item("early", "activity", datetime(2027, 4, 30, 9, tzinfo=LISBON), None),
        _item("gone", "activity", _at(1, 10), _at(1, 12), booking_status="cancelled"),
    ]
    conflicts = find_conflicts(_trip(), items)
    kinds = {(c.kind, c.item_ids, c.day) for c in conflicts}
    assert ("overlap", ("museum", "lunch"), date(2027, 5, 1)) in kinds
    assert ("outside_trip_dates", ("early",), date(2027, 4, 30)) in kinds
    assert ("missing_accommodation", (), date(2027, 5, 2)) in kinds
    # The last day needs no bed, the 1st is covered, the cancelled item is ignored.
    assert not any(c.day == date(2027, 5, 3) for c in conflicts)
    assert not any("gone" in c.item_ids for c in conflicts)
    assert sum(c.kind == "overlap" for c in conflicts) == 1


def test_the_day_is_the_local_date_where_the_item_happens() -> None:
    # 23:30 in Lisbon on 1 May is already 2 May in UTC+2 but still 1 May locally.
    late = _item("late", "meal", datetime(2027, 5, 1, 22, 30, tzinfo=UTC), None)
    assert late.day == date(2027, 5, 1)
    late.time_zone = "Asia/Tokyo"
    assert late.day == date(2027, 5, 2)


def test_summary_converts_with_the_rate_table_and_says_so() -> None:
    rates = rate_table("USD=0.5")
    items = [
        _item("hotel", "accommodation", _at(1, 15), _at(3, 11),
              cost=Money("EUR", 600), booking_status="booked"),
        _item("tour", "activity", _at(2, 10), _at(2, 12), cost=Money("USD", 100)),
        _item("odd", "activity", None, None, cost=Money("XAU", 1)),  # no rate known
        _item("off", "meal", _at(2, 20), _at(2, 21), cost=Money("EUR", 900),
              booking_status="cancelled"),
    ]  # fmt: skip
    summary = summarize(_trip(), items, collaborator_count=2, rates=rates)
    assert summary.planned_spend == Decimal("650.00")
    assert summary.booked_spend == Decimal("600.00")
    assert summary.converted_item_count == 1
    assert summary.unconverted_item_count == 1
    assert [(r.from_currency, r.to_currency, r.rate, r.source) for r in summary.rates] == [
        ("USD", "EUR", Decimal("0.5"), CONFIGURED_SOURCE)
    ]
    spend = {s.kind: s for s in summary.spend_by_category}
    assert spend["activity"].amount == Decimal("50.00")
    assert spend["activity"].item_count == 2
    assert spend["accommodation"].booked_amount == Decimal("600.00")
    assert [d.day for d in summary.days] == [date(2027, 5, d) for d in (1, 2, 3)]
    assert summary.days[1].cost == Decimal("50.00")
    assert not summary.over_budget
    assert summary.day_count == 3
    over = summarize(_trip(budget=Money("EUR", 100)), items, collaborator_count=0, rates=rates)
    assert over.over_budget
    assert any(c.kind == "over_budget" for c in over.conflicts)


def test_built_in_rates_and_bad_configuration() -> None:
    rate = rate_table().rate("GBP", "EUR")
    assert rate is not None
    assert rate.source == BUILT_IN_SOURCE
    assert rate_table().rate("EUR", "EUR").rate == 1  # type: ignore[union-attr]
    for bad in ("EURO=1", "USD=abc", "USD=-1", "USD=0"):
        with pytest.raises(RateTableError):
            rate_table(bad)


def test_item_rules_report_every_broken_field() -> None:
    item = _item("x", "party", _at(2, 12), _at(2, 10), cost=Money("ZZZ", -5))
    item.title = ""
    item.time_zone = "Mars/Olympus"
    with pytest.raises(InvalidArgument) as caught:
        validate_item(item)
    assert {v.field for v in caught.value.violations} == {
        "kind", "title", "end_time", "time_zone", "cost.currency_code", "cost",
    }  # fmt: skip


def test_money_from_decimal_keeps_signs_together() -> None:
    assert Money.of("EUR", Decimal("-12.5")) == Money("EUR", -12, -500_000_000)
    assert Money.of("EUR", Decimal("0.01")).amount() == Decimal("0.01")
