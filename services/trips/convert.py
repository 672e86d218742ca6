"""Trip messages <-> domain trips."""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format, struct_pb2
from google.type import latlng_pb2

from services.trips.model import Destination, Trip, TripDraft, TripStatus, Visibility
from tripsage.trips.v1 import trip_service_pb2 as pb
from tripsage_core import money
from tripsage_core.errors import FieldErrors
from tripsage_core.proto_fields import message_from
from tripsage_core.validators.dates import parse_date as parse_date  # the servicer's too

_ACCESS = {
    "owner": pb.TRIP_ACCESS_OWNER,
    "admin": pb.TRIP_ACCESS_ADMIN,
    "edit": pb.TRIP_ACCESS_EDIT,
    "view": pb.TRIP_ACCESS_VIEW,
    "public": pb.TRIP_ACCESS_VIEW,  # a signed-in reader of a public trip
}


# `enum` is a generated enum wrapper (pb.TripStatus, ...); each has its own ValueType,
# so these helpers are typed loosely and the message constructors check the rest.
def enum_to_word(enum: Any, value: int, prefix: str, default: str) -> str:
    """TRIP_STATUS_IN_PROGRESS -> "in_progress"; the zero value -> default."""
    if value == 0:
        return default
    return str(enum.Name(value)).removeprefix(prefix).lower()


def word_to_enum(enum: Any, word: str, prefix: str) -> Any:
    """ "in_progress" -> TRIP_STATUS_IN_PROGRESS."""
    return enum.Value(prefix + word.upper())


def draft_from_proto(trip: pb.Trip, errors: FieldErrors) -> TripDraft:
    destinations = []
    for index, dest in enumerate(trip.destinations):
        where = f"destinations[{index}]"
        located = dest.HasField("location")
        destinations.append(
            Destination(
                name=dest.name,
                country_code=dest.country_code.upper(),
                latitude=dest.location.latitude if located else None,
                longitude=dest.location.longitude if located else None,
                arrival_date=parse_date(dest.arrival_date, f"{where}.arrival_date", errors),
                departure_date=parse_date(dest.departure_date, f"{where}.departure_date", errors),
            )
        )
    budget = None
    if trip.HasField("budget"):
        budget = money.from_proto(trip.budget)
    travelers_set = trip.HasField("travelers")
    return TripDraft(
        title=trip.title,
        description=trip.description,
        start_date=parse_date(trip.start_date, "start_date", errors),
        end_date=parse_date(trip.end_date, "end_date", errors),
        destinations=destinations,
        budget=budget,
        adults=trip.travelers.adults if travelers_set else 1,
        children=trip.travelers.children if travelers_set else 0,
        status=enum_to_word(pb.TripStatus, trip.status, "TRIP_STATUS_", TripStatus.PLANNING),
        tags=list(trip.tags),
        visibility=enum_to_word(
            pb.TripVisibility, trip.visibility, "TRIP_VISIBILITY_", Visibility.PRIVATE
        ),
        preferences=json_format.MessageToDict(trip.preferences)
        if trip.HasField("preferences")
        else {},
    )


def trip_to_proto(trip: Trip) -> pb.Trip:
    message = message_from(
        pb.Trip,
        trip,
        start_date=trip.start_date.isoformat() if trip.start_date else "",
        end_date=trip.end_date.isoformat() if trip.end_date else "",
        destinations=[
            pb.Destination(
                name=d.name,
                country_code=d.country_code,
                location=(
                    latlng_pb2.LatLng(latitude=d.latitude, longitude=d.longitude)
                    if d.latitude is not None and d.longitude is not None
                    else None
                ),
                arrival_date=d.arrival_date.isoformat() if d.arrival_date else "",
                departure_date=d.departure_date.isoformat() if d.departure_date else "",
            )
            for d in trip.destinations
        ],
        travelers=pb.Travelers(adults=trip.adults, children=trip.children),
        status=word_to_enum(pb.TripStatus, trip.status, "TRIP_STATUS_"),
        visibility=word_to_enum(pb.TripVisibility, trip.visibility, "TRIP_VISIBILITY_"),
        caller_access=_ACCESS.get(trip.access, pb.TRIP_ACCESS_UNSPECIFIED),
    )
    if trip.budget is not None:
        message.budget.CopyFrom(money.to_proto(trip.budget))
    if trip.preferences:
        preferences = struct_pb2.Struct()
        preferences.update(trip.preferences)
        message.preferences.CopyFrom(preferences)
    return message
