"""TripService over gRPC: proto in, domain call, proto out."""

from __future__ import annotations

from typing import Any

from grpc import aio

from services.trips.convert import draft_from_proto, enum_to_word, parse_date, trip_to_proto
from services.trips.trips import TripFilter, Trips
from tripsage.trips.v1 import trip_service_pb2 as pb
from tripsage.trips.v1 import trip_service_pb2_grpc as pb_grpc
from tripsage_core.errors import FieldErrors
from tripsage_core.grpc_kit.caller import CallerResolver

Context = aio.ServicerContext[Any, Any]


class TripServicer(pb_grpc.TripServiceServicer):
    def __init__(self, trips: Trips, callers: CallerResolver) -> None:
        self.trips = trips
        self.callers = callers

    async def CreateTrip(
        self, request: pb.CreateTripRequest, context: Context
    ) -> pb.CreateTripResponse:
        caller = await self.callers.require(context)
        errors = FieldErrors()
        draft = draft_from_proto(request.trip, errors)
        errors.raise_if_any()
        trip = await self.trips.create(caller, draft)
        return pb.CreateTripResponse(trip=trip_to_proto(trip))

    async def GetTrip(self, request: pb.GetTripRequest, context: Context) -> pb.GetTripResponse:
        caller = await self.callers.require(context)
        trip = await self.trips.get(caller, request.trip_id)
        return pb.GetTripResponse(trip=trip_to_proto(trip))

    async def ListTrips(
        self, request: pb.ListTripsRequest, context: Context
    ) -> pb.ListTripsResponse:
        caller = await self.callers.require(context)
        errors = FieldErrors()
        filters = TripFilter(
            status=(
                enum_to_word(pb.TripStatus, request.status, "TRIP_STATUS_", "")
                if request.status
                else None
            ),
            start_from=parse_date(request.start_date_from, "start_date_from", errors),
            start_to=parse_date(request.start_date_to, "start_date_to", errors),
            text=request.query.strip() or None,
            order="update_time"
            if request.order_by == pb.LIST_TRIPS_ORDER_UPDATE_TIME
            else "start_date",
        )
        errors.raise_if_any()
        page = await self.trips.list(
            caller, filters, page_size=request.page_size, page_token=request.page_token
        )
        return pb.ListTripsResponse(
            trips=[trip_to_proto(t) for t in page.trips], next_page_token=page.next_page_token
        )

    async def UpdateTrip(
        self, request: pb.UpdateTripRequest, context: Context
    ) -> pb.UpdateTripResponse:
        caller = await self.callers.require(context)
        errors = FieldErrors()
        changes = draft_from_proto(request.trip, errors)
        errors.raise_if_any()
        fields = {path.split(".")[0] for path in request.update_mask.paths}
        trip = await self.trips.update(caller, request.trip.id, changes, fields, request.trip.etag)
        return pb.UpdateTripResponse(trip=trip_to_proto(trip))

    async def DeleteTrip(
        self, request: pb.DeleteTripRequest, context: Context
    ) -> pb.DeleteTripResponse:
        caller = await self.callers.require(context)
        await self.trips.delete(caller, request.trip_id, request.etag)
        return pb.DeleteTripResponse()
