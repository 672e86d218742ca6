"""Calendar dates, instants and time zones every service accepts.

Dates are ISO-8601 strings in the contract. They are held to the years
1900..2200: wide enough for any trip, narrow enough that shifting a date or
showing an instant in any time zone never leaves what Python and PostgreSQL can
represent (9999-12-31T23:00Z in UTC+1 is already year 10000).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from tripsage_core.errors import FieldErrors

MIN_YEAR = 1900
MAX_YEAR = 2200
FIRST_DAY = date(MIN_YEAR, 1, 1)
LAST_DAY = date(MAX_YEAR, 12, 31)
OUT_OF_CALENDAR = f"must be between the years {MIN_YEAR} and {MAX_YEAR}"
TIME_ZONE_PROBLEM = "must be an IANA time zone such as Europe/Lisbon"
BOOKING_HORIZON_DAYS = 365  # how far ahead travel searches (and so plans) may reach

_ZONES = available_timezones()


def in_calendar(day: date) -> bool:
    return FIRST_DAY <= day <= LAST_DAY


def parse_date(value: str, field: str, errors: FieldErrors) -> date | None:
    """The date `value` spells ("2027-05-01"), None when empty; a problem when it is not
    a date or lies outside the supported years."""
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        errors.add(field, "must be a date like 2027-05-01")
        return None
    if not in_calendar(day):
        errors.add(field, OUT_OF_CALENDAR)
        return None
    return day


def check_day(day: date | None, field: str, errors: FieldErrors) -> None:
    """For days a service computes (a shifted copy) rather than parses."""
    if day is not None and not in_calendar(day):
        errors.add(field, OUT_OF_CALENDAR)


def check_instant(instant: datetime | None, field: str, errors: FieldErrors) -> None:
    if instant is not None and not in_calendar(instant.astimezone(UTC).date()):
        errors.add(field, OUT_OF_CALENDAR)


def time_zone(name: str) -> ZoneInfo | None:
    """The IANA zone called `name`, or None when unknown (UTC when empty)."""
    if not name:
        return ZoneInfo("UTC")
    if name not in _ZONES:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
