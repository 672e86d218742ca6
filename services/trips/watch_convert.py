"""WatchTrip events as messages."""

from __future__ import annotations

from services.trips.sharing_convert import activity_to_proto
from services.trips.watching import TripEvent, TripEventKind
from tripsage.trips.v1 import trip_service_pb2 as pb

_KINDS = {
    TripEventKind.CHANGED: pb.TRIP_EVENT_KIND_CHANGED,
    TripEventKind.ACCESS_ENDED: pb.TRIP_EVENT_KIND_ACCESS_ENDED,
    TripEventKind.TRIP_DELETED: pb.TRIP_EVENT_KIND_TRIP_DELETED,
}


def changed_resource(event: TripEvent) -> str:
    """The relative resource name of what changed: an item, a collaborator, or the trip."""
    trip = f"trips/{event.trip_id}"
    details = event.activity.details if event.activity is not None else {}
    if details.get("item_id"):
        return f"{trip}/items/{details['item_id']}"
    if details.get("collaborator_id"):
        return f"{trip}/collaborators/{details['collaborator_id']}"
    return trip


def event_to_proto(event: TripEvent) -> pb.WatchTripResponse:
    reply = pb.WatchTripResponse(
        event_id=str(event.seq) if event.seq else "",
        kind=_KINDS[event.kind],
        trip_id=event.trip_id,
        resource=changed_resource(event),
    )
    if event.activity is not None:
        reply.activity.CopyFrom(activity_to_proto(event.activity))
    return reply
