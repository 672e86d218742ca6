"""PlanTrip end to end, for the RPC and the plan_trip tool alike: the request read, an
existing trip's details filling what it leaves out, the plan made, and saved as a new
trip or into that one.

An existing trip is read as the caller (the trips service decides what they may see):
one they cannot see is NOT_FOUND, and saving into one they may only view is
PERMISSION_DENIED, before anything is planned.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from services.assistant.chat import ToolCallRequest
from services.assistant.plan_convert import plan_to_proto, request_from_proto
from services.assistant.planner import Planner, ToolRunner, save_plan
from services.assistant.travel_request import TravelRequest
from tripsage.assistant.v1 import assistant_service_pb2 as pb
from tripsage_core.errors import InvalidArgument, NotFound, PermissionDenied, Unavailable
from tripsage_core.identity import Principal

_WRITERS = {"TRIP_ACCESS_OWNER", "TRIP_ACCESS_ADMIN", "TRIP_ACCESS_EDIT"}


class TripPlanning:
    def __init__(self, planner: Planner, tools: ToolRunner) -> None:
        self.planner = planner
        self.tools = tools

    async def plan(
        self, caller: Principal, request: pb.PlanTripRequest, today: date
    ) -> pb.PlanTripResponse:
        asked = request_from_proto(request, today)
        if request.trip_id:
            trip = await self._trip(caller, request.trip_id)
            if request.save and trip.get("callerAccess") not in _WRITERS:
                raise PermissionDenied(
                    "you may only view this trip: plan without save, or ask for edit rights",
                    reason="READ_ONLY",
                )
            asked = filled_from_trip(asked, trip)
        plan = await self.planner.plan(caller, asked, today)
        trip_id = ""
        if request.save:
            trip_id = await save_plan(self.tools, caller, plan, into=request.trip_id or None)
        return pb.PlanTripResponse(plan=plan_to_proto(plan), trip_id=trip_id)

    async def _trip(self, caller: Principal, trip_id: str) -> dict[str, Any]:
        call = ToolCallRequest(f"trip_{uuid.uuid4().hex[:10]}", "get_trip", {"tripId": trip_id})
        outcome = await self.tools.run(caller, call)
        if not outcome.error:
            return dict(outcome.result.get("trip") or {})
        code = outcome.error.split(":", 1)[0]
        if code in ("NOT_FOUND", "PERMISSION_DENIED"):
            raise NotFound(f"trip {trip_id[:80]!r} not found", reason="TRIP_NOT_FOUND")
        if code == "INVALID_ARGUMENT":
            raise InvalidArgument.for_field("trip_id", "is not a valid trip id")
        raise Unavailable(f"cannot read the trip now: {outcome.error}", retry_after_seconds=2)


def filled_from_trip(asked: TravelRequest, trip: dict[str, Any]) -> TravelRequest:
    """What the request leaves out, from the trip: its first destination, its dates, its
    travellers and its budget (the request's own fields and prompt win)."""
    changes: dict[str, Any] = {}
    destinations = trip.get("destinations") or []
    if asked.destination is None and destinations and destinations[0].get("name"):
        changes["destination"] = str(destinations[0]["name"])
    if asked.start is None and asked.end is None and trip.get("startDate"):
        changes["start"] = date.fromisoformat(trip["startDate"])
        if trip.get("endDate"):
            changes["end"] = date.fromisoformat(trip["endDate"])
    travelers = trip.get("travelers") or {}
    if asked.adults is None and travelers.get("adults"):
        changes["adults"] = int(travelers["adults"])
    if not asked.children and not asked.child_ages and travelers.get("children"):
        changes["children"] = int(travelers["children"])
    budget = trip.get("budget") or {}
    if asked.budget is None and budget.get("currencyCode"):
        units = Decimal(str(budget.get("units", 0) or 0))
        changes["budget"] = units + Decimal(int(budget.get("nanos", 0) or 0)) / 10**9
        changes["currency"] = str(budget["currencyCode"])
    return replace(asked, **changes)
