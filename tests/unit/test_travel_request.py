"""The offline assistant's reading of plain-English travel requests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from services.assistant.travel_request import TravelRequest, parse

TODAY = date(2026, 12, 3)


def test_the_issue_example() -> None:
    asked = parse(
        "Plan 4 days in Lisbon from London in May for two, about 2000 euros,"
        " we love food and museums",
        TODAY,
    )
    assert asked == TravelRequest(
        destination="Lisbon",
        origin="London",
        start=date(2027, 5, 10),
        end=date(2027, 5, 13),
        adults=2,
        budget=Decimal(2000),
        currency="EUR",
        interests=("food", "museums"),
    )
    assert asked.days == 4


def test_a_month_means_the_next_one_of_that_name_this_month_while_it_lasts() -> None:
    assert parse("3 days in Rome in May", TODAY).start == date(2027, 5, 10)
    assert parse("3 days in Rome in December", TODAY).start == date(2026, 12, 10)
    assert parse("3 days in Rome in December", date(2026, 12, 20)).start == date(2026, 12, 23)
    assert parse("3 days in Rome in December", date(2026, 12, 30)).start == date(2027, 12, 10)
    assert parse("3 days in Rome in November", TODAY).start == date(2027, 11, 10)


def test_a_trip_at_home() -> None:
    asked = parse("Plan 3 days in Dublin from Dublin for two", TODAY)
    assert (asked.destination, asked.origin) == ("Dublin", "Dublin")


def test_families_diets_access_pace_rooms_and_no_flying() -> None:
    asked = parse(
        "A relaxed week to Porto by train from Madrid, 2 adults and 2 kids aged 5 and 8,"
        " vegetarian, one of us uses a wheelchair, 2 rooms, budget €3.5k",
        TODAY,
    )
    assert asked.destination == "Porto"
    assert asked.origin == "Madrid"
    assert asked.days == 7
    assert (asked.adults, asked.children, asked.child_ages) == (2, 2, (5, 8))
    assert asked.dietary == ("vegetarian",)
    assert asked.accessibility == ("wheelchair",)
    assert asked.pace == "relaxed"
    assert asked.rooms == 2
    assert asked.no_flying
    assert (asked.budget, asked.currency) == (Decimal(3500), "EUR")


def test_explicit_dates_nights_and_solo() -> None:
    asked = parse("Solo trip to New York from 2027-03-02 to 2027-03-06, $1,500", TODAY)
    assert asked.destination == "New York"
    assert (asked.start, asked.end) == (date(2027, 3, 2), date(2027, 3, 6))
    assert asked.adults == 1
    assert (asked.budget, asked.currency) == (Decimal(1500), "USD")
    nights = parse("3 nights in Rome in June", TODAY)
    assert nights.days == 4
    assert nights.start == date(2027, 6, 10)


def test_what_is_not_said_stays_unset() -> None:
    asked = parse("somewhere warm please", TODAY)
    assert asked == TravelRequest()
    assert parse("Plan a trip in May", TODAY).destination is None  # a month is no place


@given(st.text(max_size=300))
def test_any_text_parses_without_error(text: str) -> None:
    asked = parse(text, TODAY)
    assert asked.children >= 0
    if asked.start and asked.end:
        assert asked.end >= asked.start
