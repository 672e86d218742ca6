"""The trip as the domain sees it, and the rules a valid trip follows."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import pycountry

from services.trips import limits
from tripsage_core.errors import FieldErrors
from tripsage_core.money import Money as Money  # trips' modules import it from here
from tripsage_core.money import money_problems as money_problems
from tripsage_core.validators.dates import check_day
from tripsage_core.validators.geo import check_lat_lng


class TripStatus(StrEnum):
    PLANNING = "planning"
    BOOKED = "booked"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Visibility(StrEnum):
    PRIVATE = "private"
    SHARED = "shared"
    PUBLIC = "public"


def is_country(code: str) -> bool:
    """An ISO 3166-1 alpha-2 country code such as PT (upper case)."""
    return (
        bool(re.fullmatch(r"[A-Z]{2}", code)) and pycountry.countries.get(alpha_2=code) is not None
    )


@dataclass(frozen=True)
class Destination:
    """A place the trip goes to; a value, kept in the trip's JSON column."""

    name: str
    country_code: str = ""
    latitude: float | None = None
    longitude: float | None = None
    arrival_date: date | None = None
    departure_date: date | None = None

    def as_json(self) -> dict[str, Any]:
        raw = dataclasses.asdict(self)
        for name in _DESTINATION_DATES:
            raw[name] = raw[name].isoformat() if raw[name] else None
        return raw

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Destination:
        days = {n: date.fromisoformat(raw[n]) if raw.get(n) else None for n in _DESTINATION_DATES}
        return cls(
            name=raw["name"],
            country_code=raw.get("country_code") or "",
            latitude=raw.get("latitude"),
            longitude=raw.get("longitude"),
            **days,
        )


_DESTINATION_DATES = ("arrival_date", "departure_date")


@dataclass
class TripDraft:
    """The fields a caller sets on a trip."""

    title: str
    description: str = ""
    start_date: date | None = None
    end_date: date | None = None
    destinations: list[Destination] = field(default_factory=list)
    budget: Money | None = None
    adults: int = 1
    children: int = 0
    status: str = TripStatus.PLANNING
    tags: list[str] = field(default_factory=list)
    visibility: str = Visibility.PRIVATE
    preferences: dict[str, Any] = field(default_factory=dict)


ACCESS_RANK = {"public": 0, "view": 1, "edit": 2, "admin": 3, "owner": 4}


@dataclass
class Trip(TripDraft):
    id: str = ""
    owner_id: str = ""
    version: int = 1
    created_at: datetime | None = None
    updated_at: datetime | None = None
    # The caller's relation to the trip: owner, admin, edit, view, or public (a
    # signed-in reader of a public trip).
    access: str = "owner"

    def allows(self, level: str) -> bool:
        """Whether the caller's access reaches `level` (view < edit < admin < owner)."""
        return ACCESS_RANK.get(self.access, -1) >= ACCESS_RANK[level]

    @property
    def etag(self) -> str:
        return str(self.version)


def validate(draft: TripDraft) -> None:
    """Every rule a stored trip satisfies; reports all broken fields together."""
    errors = FieldErrors()
    if not draft.title.strip():
        errors.add("title", "is required")
    else:
        limits.check_text(errors, "title", draft.title, limits.TITLE)
    limits.check_text(errors, "description", draft.description, limits.DESCRIPTION)
    check_day(draft.start_date, "start_date", errors)
    check_day(draft.end_date, "end_date", errors)
    if draft.start_date and draft.end_date and draft.end_date < draft.start_date:
        errors.add("end_date", "must not be before start_date")
    limits.check_count(
        errors, "destinations", draft.destinations, limits.DESTINATIONS, "destinations"
    )
    for index, dest in enumerate(draft.destinations[: limits.DESTINATIONS]):
        where = f"destinations[{index}]"
        if not dest.name.strip():
            errors.add(f"{where}.name", "is required")
        limits.check_text(errors, f"{where}.name", dest.name, limits.TITLE)
        if dest.country_code and not is_country(dest.country_code):
            errors.add(f"{where}.country_code", "must be an ISO 3166-1 alpha-2 code such as PT")
        check_lat_lng(dest.latitude, dest.longitude, f"{where}.location", errors)
        for label, day in (
            ("arrival_date", dest.arrival_date),
            ("departure_date", dest.departure_date),
        ):
            if day is None:
                continue
            if (draft.start_date and day < draft.start_date) or (
                draft.end_date and day > draft.end_date
            ):
                errors.add(f"{where}.{label}", "must fall within the trip's dates")
        if dest.arrival_date and dest.departure_date and dest.departure_date < dest.arrival_date:
            errors.add(f"{where}.departure_date", "must not be before arrival_date")
    if draft.budget is not None:
        money_problems(draft.budget, "budget", errors)
    if draft.adults < 0:
        errors.add("travelers.adults", "must not be negative")
    if draft.children < 0:
        errors.add("travelers.children", "must not be negative")
    if draft.adults + draft.children > 100:
        errors.add("travelers", "at most 100 travellers")
    if draft.status not in TripStatus:
        errors.add("status", f"must be one of {', '.join(TripStatus)}")
    if draft.visibility not in Visibility:
        errors.add("visibility", f"must be one of {', '.join(Visibility)}")
    limits.check_count(errors, "tags", draft.tags, limits.TAGS, "tags")
    for index, tag in enumerate(draft.tags[: limits.TAGS]):
        if not tag.strip() or len(tag) > limits.TAG:
            errors.add(f"tags[{index}]", f"must be 1 to {limits.TAG} characters")
    limits.check_json(errors, "preferences", draft.preferences, limits.PREFERENCES_BYTES)
    errors.raise_if_any()
