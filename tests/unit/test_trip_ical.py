"""The iCalendar export parses back, one event per timed item, in the item's own zone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar

from services.trips.export_ical import export_filename, render_ical
from services.trips.items import ItemLocation, ItineraryItem
from services.trips.model import Trip


def test_events_carry_local_times_and_details() -> None:
    trip = Trip(id="t", title="Lisboa & Porto!", start_date=date(2027, 5, 1))
    items = [
        ItineraryItem(
            id="a", kind="flight", title="TP 1234", time_zone="Europe/Lisbon",
            start_time=datetime(2027, 5, 1, 8, 0, tzinfo=UTC),
            end_time=datetime(2027, 5, 1, 10, 30, tzinfo=UTC),
            booking_status="booked", booking_reference="ABC123",
            location=ItemLocation(name="LIS", latitude=38.77, longitude=-9.13),
        ),
        ItineraryItem(id="b", kind="note", title="Pack sunscreen"),  # undated: no event
    ]  # fmt: skip
    parsed = Calendar.from_ical(render_ical(trip, items))
    events = list(parsed.walk("VEVENT"))
    assert len(events) == 1
    event = events[0]
    start = event.decoded("dtstart")
    assert start.tzinfo is not None
    assert str(start.tzinfo) == "Europe/Lisbon"
    assert start == datetime(2027, 5, 1, 8, 0, tzinfo=UTC)
    assert start.hour == 9  # summer time in Lisbon
    assert event.decoded("dtend") == datetime(2027, 5, 1, 10, 30, tzinfo=UTC)
    assert str(event["status"]) == "CONFIRMED"
    assert "ABC123" in str(event["description"])
    assert {str(tz["tzid"]) for tz in parsed.walk("VTIMEZONE")} == {"Europe/Lisbon"}
    assert export_filename(trip, "ics") == "Lisboa & Porto!.ics"
    assert export_filename(Trip(id="t-1", title="  "), "json") == "t-1.json"
    assert ZoneInfo("Europe/Lisbon")
