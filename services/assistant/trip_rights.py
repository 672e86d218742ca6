"""Which trip a conversation is about and what its reader may do with it: the trips
service's answer, asked as the caller. No transport here (the adapter is in app.py)."""

from __future__ import annotations

from typing import Protocol

from services.assistant.model import TripAccess
from tripsage_core.errors import NotFound, PermissionDenied
from tripsage_core.identity import Principal


class TripRights(Protocol):
    async def access(self, caller: Principal, trip_id: str) -> TripAccess | None:
        """What `caller` may do with the trip: None when they may not see it (or it is
        gone, or they only see it as the public does)."""
        ...


def trip_not_found(trip_id: str) -> NotFound:
    return NotFound(f"trip {trip_id} not found", reason="TRIP_NOT_FOUND")


def read_only() -> PermissionDenied:
    return PermissionDenied(
        "you can view this trip's conversations but not add to them", reason="READ_ONLY"
    )
