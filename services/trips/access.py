"""Who may do what on a trip, checked in the service for clear errors (RLS enforces it too)."""

from __future__ import annotations

import uuid

from services.trips.model import Trip
from services.trips.store import TripsUnit
from tripsage_core.errors import InvalidArgument, NotFound, PermissionDenied

# Reading needs any access, public readers included; the rest needs at least:
READ, MEMBER, EDIT, ADMIN, OWNER = "public", "view", "edit", "admin", "owner"
_DENIED = {
    MEMBER: ("only the trip's members can see this", "NOT_A_MEMBER"),
    EDIT: ("you can view this trip but not change it", "READ_ONLY"),
    ADMIN: ("only the owner or an admin collaborator can manage collaborators", "NOT_ADMIN"),
    OWNER: ("only the trip's owner can do this", "NOT_OWNER"),
}


def parse_uuid(value: str, field: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidArgument.for_field(field, f"is not a valid {what} id") from None


def trip_not_found(trip_id: str) -> NotFound:
    # The same answer whether the trip does not exist or is someone else's.
    return NotFound(f"trip {trip_id} not found", reason="TRIP_NOT_FOUND")


async def load_trip(
    uow: TripsUnit,
    trip_id: str,
    level: str = READ,
    *,
    field: str = "trip_id",
    for_update: bool = False,
) -> Trip:
    """The trip if the caller may see it (NOT_FOUND otherwise) and holds `level` on it
    (PERMISSION_DENIED otherwise)."""
    trip = await uow.trips.get(parse_uuid(trip_id, field, "trip"), for_update=for_update)
    if trip is None:
        raise trip_not_found(trip_id)
    if not trip.allows(level):
        message, reason = _DENIED[level]
        raise PermissionDenied(message, reason=reason)
    return trip


def require_publisher(trip: Trip) -> None:
    """Who sees a trip is the owner's and admins' call, like who is on it (RLS: 0004)."""
    if not trip.allows(ADMIN):
        raise PermissionDenied(
            "only the owner or an admin collaborator can change the trip's visibility",
            reason="NOT_ADMIN",
        )
