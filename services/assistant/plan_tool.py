"""plan_trip: PlanTrip as one of the assistant's tools, so a conversation can plan (and,
once the user approves, save the plan as a trip) with the same planner the RPC uses.

Its parameters are PlanTripRequest's JSON Schema without `trip_id` (planning into an
existing trip is not built); the answer is the plan's JSON mapping. Only a call that
saves is a change, so only that one waits for approval (turns.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from google.protobuf import json_format

from services.assistant.chat import ToolSpec
from services.assistant.plan_convert import plan_to_proto, request_from_proto
from services.assistant.planner import Plan, Planner
from services.assistant.tools import ToolArgumentsInvalid, ToolOutcome
from tripsage.assistant.v1 import assistant_service_pb2 as pb
from tripsage_core.identity import Principal
from tripsage_core.proto_docs import comment
from tripsage_core.proto_schema import message_schema

type SavePlan = Callable[[Principal, Plan], Awaitable[str]]
_LEFT_OUT = ("trip_id",)


def _schema() -> dict[str, Any]:
    schema = message_schema(pb.PlanTripRequest.DESCRIPTOR)
    properties = {k: v for k, v in schema.get("properties", {}).items() if k not in _LEFT_OUT}
    return {**schema, "properties": properties}


def _proposal(arguments: dict[str, Any]) -> str | None:
    if not arguments.get("save"):
        return None
    where = str(arguments.get("destination") or "").strip()[:120]
    return f"save the plan{f' for {where}' if where else ''} as a new trip with its items"


class PlanTool:
    spec = ToolSpec(
        name="plan_trip",
        description=comment("tripsage.assistant.v1.AssistantService.PlanTrip") or "Plan a trip.",
        parameters=_schema(),
        proposal=_proposal,
    )

    def __init__(self, planner: Planner, save: SavePlan) -> None:
        self.planner = planner
        self.save = save

    async def run(self, caller: Principal, arguments: dict[str, Any]) -> ToolOutcome:
        if any(name in arguments for name in ("tripId", *_LEFT_OUT)):
            raise ToolArgumentsInvalid("trip_id is not supported: plan a new trip")
        try:
            request = json_format.ParseDict(arguments, pb.PlanTripRequest())
        except (json_format.ParseError, TypeError, ValueError) as problem:
            raise ToolArgumentsInvalid(str(problem)) from None
        today = datetime.now(UTC).date()
        plan = await self.planner.plan(caller, request_from_proto(request, today), today)
        trip_id = await self.save(caller, plan) if request.save else ""
        answer = pb.PlanTripResponse(plan=plan_to_proto(plan), trip_id=trip_id)
        days = len(plan.days)
        summary = f"a {days}-day plan for {plan.destination}, {plan.total:.2f} {plan.currency}"
        return ToolOutcome(
            json_format.MessageToDict(answer),
            summary + (f", saved as {trip_id}" if trip_id else ""),
        )
