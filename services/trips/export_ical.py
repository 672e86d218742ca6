"""A trip's itinerary as an iCalendar document (RFC 5545): one VEVENT per timed item.

Times are written in the item's own time zone (DTSTART;TZID=...), with the
matching VTIMEZONE definitions included, so calendars show them where they
happen; items without a zone are written in UTC.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

from services.trips.items import ItineraryItem
from services.trips.model import Trip

PRODUCT_ID = "-//TripSage//Trips v1//EN"
_STATUS = {"booked": "CONFIRMED", "cancelled": "CANCELLED"}


def export_filename(trip: Trip, extension: str) -> str:
    """The trip's title (or id) as a file name, e.g. "Lisboa & Porto!.ics". The gateway
    makes any name safe for a download (gateway/downloads.py); this only keeps it one
    line and short."""
    title = " ".join(unicodedata.normalize("NFC", trip.title).split())[:100].strip()
    return f"{title or trip.id}.{extension}"


def render_ical(trip: Trip, items: list[ItineraryItem]) -> bytes:
    # Imported on the first export, not at start-up: icalendar is 8 MB of a trips
    # process that most replicas never spend (docs/performance.md, memory).
    from icalendar import Calendar, Event

    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", trip.title)
    stamp = (trip.updated_at or datetime.now(UTC)).astimezone(UTC)
    for item in items:
        if item.start_time is None:
            continue  # undated ideas have no place in a calendar
        event = Event()
        event.add("uid", f"{item.id}@trips.tripsage")
        event.add("dtstamp", stamp)
        event.add("summary", item.title)
        event.add("dtstart", item.local(item.start_time))
        if item.end_time is not None:
            event.add("dtend", item.local(item.end_time))
        event.add("categories", [item.kind.upper()])
        event.add("status", _STATUS.get(item.booking_status, "TENTATIVE"))
        notes = [item.description] if item.description else []
        if item.booking_reference:
            notes.append(f"Booking reference: {item.booking_reference}")
        if item.provider:
            notes.append(f"Provider: {item.provider}")
        if notes:
            event.add("description", "\n".join(notes))
        if item.location is not None:
            place = ", ".join(p for p in (item.location.name, item.location.address) if p)
            if place:
                event.add("location", place)
            if item.location.latitude is not None and item.location.longitude is not None:
                event.add("geo", (item.location.latitude, item.location.longitude))
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return bytes(calendar.to_ical())
