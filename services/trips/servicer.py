"""TripService over gRPC: proto in, domain call, proto out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from google.api import httpbody_pb2
from grpc import aio

from services.trips import limits
from services.trips.collaboration import Collaboration
from services.trips.convert import draft_from_proto, enum_to_word, parse_date, trip_to_proto
from services.trips.export_ical import export_filename, render_ical
from services.trips.item_convert import (
    item_draft_from_proto,
    item_to_proto,
    render_json,
    snapshot_size,
    summary_to_proto,
)
from services.trips.items import EDITABLE_ITEM_FIELDS
from services.trips.itinerary import Itinerary
from services.trips.sharing_convert import (
    activity_to_proto,
    collaborator_to_proto,
    invitation_to_proto,
)
from services.trips.trips import EDITABLE_FIELDS, TripFilter, Trips
from services.trips.watch_convert import event_to_proto
from services.trips.watching import TripWatching
from tripsage.common.v1 import download_pb2
from tripsage.trips.v1 import trip_service_pb2 as pb
from tripsage.trips.v1 import trip_service_pb2_grpc as pb_grpc
from tripsage_core.errors import FieldErrors
from tripsage_core.grpc_kit.access import current_caller
from tripsage_core.grpc_kit.caller import CallerResolver
from tripsage_core.grpc_kit.metadata import idempotency_key
from tripsage_core.grpc_kit.replies import page_reply

Context = aio.ServicerContext[Any, Any]
_ROLE = "COLLABORATOR_ROLE_"


def _mask(paths: list[str]) -> set[str]:
    # "location.name" changes the location as a whole: nested fields are not merged.
    return {path.split(".")[0] for path in paths}


def _role(value: int, default: str) -> str:
    return enum_to_word(pb.CollaboratorRole, value, _ROLE, default)


class TripServicer(pb_grpc.TripServiceServicer):
    def __init__(
        self,
        trips: Trips,
        collaboration: Collaboration,
        itinerary: Itinerary,
        watching: TripWatching,
        callers: CallerResolver,
    ) -> None:
        self.trips = trips
        self.collaboration = collaboration
        self.itinerary = itinerary
        self.watching = watching
        # Re-verifies a watcher's credentials while the stream is open (expiry, revocation).
        self.callers = callers

    # Trips

    async def CreateTrip(
        self, request: pb.CreateTripRequest, context: Context
    ) -> pb.CreateTripResponse:
        attempt = idempotency_key(context, "CreateTrip", request)
        errors = FieldErrors()
        draft = draft_from_proto(request.trip, errors)
        errors.raise_if_any()
        trip = await self.trips.create(current_caller(), draft, attempt)
        return pb.CreateTripResponse(trip=trip_to_proto(trip))

    async def GetTrip(self, request: pb.GetTripRequest, context: Context) -> pb.GetTripResponse:
        trip = await self.trips.get(current_caller(), request.trip_id)
        return pb.GetTripResponse(trip=trip_to_proto(trip))

    async def ListTrips(
        self, request: pb.ListTripsRequest, context: Context
    ) -> pb.ListTripsResponse:
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
            order="start_date"
            if request.order_by == pb.LIST_TRIPS_ORDER_START_DATE
            else "update_time",
        )
        limits.check_text(errors, "query", request.query, limits.QUERY)
        errors.raise_if_any()
        page = await self.trips.list(
            current_caller(), filters, page_size=request.page_size, page_token=request.page_token
        )
        return page_reply(pb.ListTripsResponse, "trips", page, trip_to_proto)

    async def UpdateTrip(
        self, request: pb.UpdateTripRequest, context: Context
    ) -> pb.UpdateTripResponse:
        errors = FieldErrors()
        changes = draft_from_proto(request.trip, errors)
        errors.raise_if_any()
        fields = _mask(list(request.update_mask.paths))
        if not fields:
            fields = set(EDITABLE_FIELDS)
        trip = await self.trips.update(
            current_caller(), request.trip.id, changes, fields, request.trip.etag
        )
        return pb.UpdateTripResponse(trip=trip_to_proto(trip))

    async def DeleteTrip(
        self, request: pb.DeleteTripRequest, context: Context
    ) -> pb.DeleteTripResponse:
        await self.trips.delete(current_caller(), request.trip_id, request.etag)
        return pb.DeleteTripResponse()

    async def DuplicateTrip(
        self, request: pb.DuplicateTripRequest, context: Context
    ) -> pb.DuplicateTripResponse:
        attempt = idempotency_key(context, "DuplicateTrip", request)
        errors = FieldErrors()
        start = parse_date(request.start_date, "start_date", errors)
        errors.raise_if_any()
        trip = await self.trips.duplicate(
            current_caller(),
            request.trip_id,
            title=request.title.strip(),
            start_date=start,
            include_items=request.include_items,
            attempt=attempt,
        )
        return pb.DuplicateTripResponse(trip=trip_to_proto(trip))

    async def TransferTripOwnership(
        self, request: pb.TransferTripOwnershipRequest, context: Context
    ) -> pb.TransferTripOwnershipResponse:
        trip = await self.trips.transfer_ownership(
            current_caller(), request.trip_id, request.new_owner_id, request.etag
        )
        return pb.TransferTripOwnershipResponse(trip=trip_to_proto(trip))

    # Collaborators and invitations

    async def ListCollaborators(
        self, request: pb.ListCollaboratorsRequest, context: Context
    ) -> pb.ListCollaboratorsResponse:
        page = await self.collaboration.list_collaborators(
            current_caller(),
            request.trip_id,
            page_size=request.page_size,
            page_token=request.page_token,
        )
        return page_reply(
            pb.ListCollaboratorsResponse, "collaborators", page, collaborator_to_proto
        )

    async def AddCollaborator(
        self, request: pb.AddCollaboratorRequest, context: Context
    ) -> pb.AddCollaboratorResponse:
        added = await self.collaboration.add(
            current_caller(),
            request.trip_id,
            email=request.email,
            role=_role(request.role, "view"),
            message=request.message,
        )
        return pb.AddCollaboratorResponse(collaborator=collaborator_to_proto(added))

    async def UpdateCollaboratorRole(
        self, request: pb.UpdateCollaboratorRoleRequest, context: Context
    ) -> pb.UpdateCollaboratorRoleResponse:
        updated = await self.collaboration.update_role(
            current_caller(),
            request.trip_id,
            request.collaborator_id,
            role=_role(request.role, ""),
            etag=request.etag,
        )
        return pb.UpdateCollaboratorRoleResponse(collaborator=collaborator_to_proto(updated))

    async def RemoveCollaborator(
        self, request: pb.RemoveCollaboratorRequest, context: Context
    ) -> pb.RemoveCollaboratorResponse:
        await self.collaboration.remove(current_caller(), request.trip_id, request.collaborator_id)
        return pb.RemoveCollaboratorResponse()

    async def LeaveTrip(
        self, request: pb.LeaveTripRequest, context: Context
    ) -> pb.LeaveTripResponse:
        await self.collaboration.leave(current_caller(), request.trip_id)
        return pb.LeaveTripResponse()

    async def ListTripInvitations(
        self, request: pb.ListTripInvitationsRequest, context: Context
    ) -> pb.ListTripInvitationsResponse:
        page = await self.collaboration.invitations(
            current_caller(), page_size=request.page_size, page_token=request.page_token
        )
        return page_reply(pb.ListTripInvitationsResponse, "invitations", page, invitation_to_proto)

    async def AcceptTripInvitation(
        self, request: pb.AcceptTripInvitationRequest, context: Context
    ) -> pb.AcceptTripInvitationResponse:
        trip = await self.collaboration.accept(current_caller(), request.invitation_id)
        return pb.AcceptTripInvitationResponse(trip=trip_to_proto(trip))

    async def DeclineTripInvitation(
        self, request: pb.DeclineTripInvitationRequest, context: Context
    ) -> pb.DeclineTripInvitationResponse:
        await self.collaboration.decline(current_caller(), request.invitation_id)
        return pb.DeclineTripInvitationResponse()

    # Itinerary

    async def CreateItineraryItem(
        self, request: pb.CreateItineraryItemRequest, context: Context
    ) -> pb.CreateItineraryItemResponse:
        attempt = idempotency_key(context, "CreateItineraryItem", request)
        item = await self.itinerary.create(
            current_caller(),
            request.trip_id,
            item_draft_from_proto(request.item),
            snapshot_size=snapshot_size(request.item),
            attempt=attempt,
        )
        return pb.CreateItineraryItemResponse(item=item_to_proto(item))

    async def GetItineraryItem(
        self, request: pb.GetItineraryItemRequest, context: Context
    ) -> pb.GetItineraryItemResponse:
        item = await self.itinerary.get(current_caller(), request.trip_id, request.item_id)
        return pb.GetItineraryItemResponse(item=item_to_proto(item))

    async def ListItineraryItems(
        self, request: pb.ListItineraryItemsRequest, context: Context
    ) -> pb.ListItineraryItemsResponse:
        errors = FieldErrors()
        day = parse_date(request.day, "day", errors)
        errors.raise_if_any()
        kind = (
            enum_to_word(pb.ItineraryItemKind, request.kind, "ITINERARY_ITEM_KIND_", "")
            if request.kind
            else None
        )
        page = await self.itinerary.list_items(
            current_caller(),
            request.trip_id,
            day=day,
            kind=kind,
            page_size=request.page_size,
            page_token=request.page_token,
        )
        return page_reply(pb.ListItineraryItemsResponse, "items", page, item_to_proto)

    async def UpdateItineraryItem(
        self, request: pb.UpdateItineraryItemRequest, context: Context
    ) -> pb.UpdateItineraryItemResponse:
        fields = _mask(list(request.update_mask.paths))
        if not fields:
            fields = set(EDITABLE_ITEM_FIELDS)
        item = await self.itinerary.update(
            current_caller(),
            request.item.trip_id,
            request.item.id,
            item_draft_from_proto(request.item),
            fields,
            request.item.etag,
            snapshot_size=snapshot_size(request.item),
        )
        return pb.UpdateItineraryItemResponse(item=item_to_proto(item))

    async def DeleteItineraryItem(
        self, request: pb.DeleteItineraryItemRequest, context: Context
    ) -> pb.DeleteItineraryItemResponse:
        await self.itinerary.delete(
            current_caller(), request.trip_id, request.item_id, request.etag
        )
        return pb.DeleteItineraryItemResponse()

    async def ReorderItineraryItems(
        self, request: pb.ReorderItineraryItemsRequest, context: Context
    ) -> pb.ReorderItineraryItemsResponse:
        errors = FieldErrors()
        day = parse_date(request.day, "day", errors)
        errors.raise_if_any()
        items = await self.itinerary.reorder(
            current_caller(), request.trip_id, day, list(request.item_ids)
        )
        return pb.ReorderItineraryItemsResponse(items=[item_to_proto(i) for i in items])

    async def GetTripSummary(
        self, request: pb.GetTripSummaryRequest, context: Context
    ) -> pb.GetTripSummaryResponse:
        summary = await self.itinerary.summary(current_caller(), request.trip_id)
        return pb.GetTripSummaryResponse(summary=summary_to_proto(summary))

    async def ExportTrip(
        self, request: pb.ExportTripRequest, context: Context
    ) -> httpbody_pb2.HttpBody:
        trip, items = await self.itinerary.contents(current_caller(), request.trip_id)
        if request.format == pb.EXPORT_FORMAT_ICAL:
            media_type, extension, data = "text/calendar", "ics", render_ical(trip, items)
        else:
            media_type, extension, data = "application/json", "json", render_json(trip, items)
        body = httpbody_pb2.HttpBody(content_type=media_type, data=data)
        body.extensions.add().Pack(download_pb2.Download(filename=export_filename(trip, extension)))
        return body

    async def ListTripActivity(
        self, request: pb.ListTripActivityRequest, context: Context
    ) -> pb.ListTripActivityResponse:
        page = await self.itinerary.activity(
            current_caller(),
            request.trip_id,
            page_size=request.page_size,
            page_token=request.page_token,
        )
        return page_reply(pb.ListTripActivityResponse, "activities", page, activity_to_proto)

    async def WatchTrip(
        self, request: pb.WatchTripRequest, context: Context
    ) -> AsyncIterator[pb.WatchTripResponse]:
        watch = await self.watching.open(current_caller(), request.trip_id, request.last_event_id)
        try:
            # Headers now: the watch is accepted even if nothing changes for a while, so
            # the gateway can answer 200 at once (errors above are still real statuses).
            await context.send_initial_metadata(())

            async def still_signed_in() -> None:
                await self.callers.require(context)

            async for event in watch.events(still_signed_in):
                yield event_to_proto(event)
        finally:
            watch.close()
