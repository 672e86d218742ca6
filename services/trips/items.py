"""Itinerary items as the domain sees them, and the rules a valid item follows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from services.trips import limits
from services.trips.model import Money, money_problems
from tripsage_core.errors import FieldErrors
from tripsage_core.validators.dates import TIME_ZONE_PROBLEM, check_instant, time_zone
from tripsage_core.validators.geo import check_lat_lng


class ItemKind(StrEnum):
    FLIGHT = "flight"
    ACCOMMODATION = "accommodation"
    ACTIVITY = "activity"
    MEAL = "meal"
    TRANSPORT = "transport"
    NOTE = "note"


class BookingStatus(StrEnum):
    IDEA = "idea"
    SAVED = "saved"
    BOOKED = "booked"
    CANCELLED = "cancelled"


@dataclass
class ItemLocation:
    name: str = ""
    address: str = ""
    latitude: float | None = None
    longitude: float | None = None
    place_id: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "address": self.address,
            "latitude": self.latitude,
            "longitude": self.longitude,
            "place_id": self.place_id,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> ItemLocation:
        return cls(
            name=raw.get("name") or "",
            address=raw.get("address") or "",
            latitude=raw.get("latitude"),
            longitude=raw.get("longitude"),
            place_id=raw.get("place_id") or "",
        )


@dataclass
class ItemDraft:
    """The fields a caller sets on an itinerary item."""

    kind: str
    title: str
    description: str = ""
    start_time: datetime | None = None
    end_time: datetime | None = None
    time_zone: str = ""
    location: ItemLocation | None = None
    cost: Money | None = None
    booking_status: str = BookingStatus.IDEA
    booking_reference: str = ""
    provider: str = ""
    offer_id: str = ""
    offer_snapshot: dict[str, Any] | None = None

    def local(self, instant: datetime) -> datetime:
        """`instant` on the wall clock of the item's place."""
        return instant.astimezone(time_zone(self.time_zone) or UTC)

    @property
    def day(self) -> date | None:
        """The trip day the item belongs to: its start date where it happens."""
        return self.local(self.start_time).date() if self.start_time else None

    @property
    def last_day(self) -> date | None:
        end = self.end_time or self.start_time
        return self.local(end).date() if end else None


@dataclass
class ItineraryItem(ItemDraft):
    id: str = ""
    trip_id: str = ""
    position: int = 0
    created_by: str = ""
    version: int = 1
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def etag(self) -> str:
        return str(self.version)


EDITABLE_ITEM_FIELDS = {
    "kind", "title", "description", "start_time", "end_time", "time_zone", "location", "cost",
    "booking_status", "booking_reference", "provider", "offer_id", "offer_snapshot",
}  # fmt: skip


def validate_item(draft: ItemDraft, snapshot_size: int = 0) -> None:
    """Every rule a stored item satisfies; reports all broken fields together."""
    errors = FieldErrors()
    if draft.kind not in ItemKind:
        errors.add("kind", f"must be one of {', '.join(ItemKind)}")
    if not draft.title.strip():
        errors.add("title", "is required")
    else:
        limits.check_text(errors, "title", draft.title, limits.TITLE)
    limits.check_text(errors, "description", draft.description, limits.DESCRIPTION)
    if draft.end_time and not draft.start_time:
        errors.add("start_time", "is required when end_time is set")
    if draft.start_time and draft.end_time and draft.end_time < draft.start_time:
        errors.add("end_time", "must not be before start_time")
    check_instant(draft.start_time, "start_time", errors)
    check_instant(draft.end_time, "end_time", errors)
    if time_zone(draft.time_zone) is None:
        errors.add("time_zone", TIME_ZONE_PROBLEM)
    if draft.location is not None:
        for name in ("name", "address", "place_id"):
            value = getattr(draft.location, name)
            limits.check_text(errors, f"location.{name}", value, limits.SHORT_TEXT)
        location = draft.location
        check_lat_lng(location.latitude, location.longitude, "location.lat_lng", errors)
    if draft.cost is not None:
        money_problems(draft.cost, "cost", errors)
    if draft.booking_status not in BookingStatus:
        errors.add("booking_status", f"must be one of {', '.join(BookingStatus)}")
    for name in ("booking_reference", "provider", "offer_id"):
        limits.check_text(errors, name, getattr(draft, name), limits.SHORT_TEXT)
    if snapshot_size > limits.OFFER_SNAPSHOT_BYTES:
        errors.add("offer_snapshot", f"must be at most {limits.OFFER_SNAPSHOT_BYTES // 1024} KiB")
    errors.raise_if_any()


@dataclass(frozen=True)
class ItemFilter:
    day: date | None = None
    kind: str | None = None
    limit: int = 100
    # Keyset position: (day or None for undated, position, id) of the last item seen.
    after: tuple[date | None, int, str] | None = None
