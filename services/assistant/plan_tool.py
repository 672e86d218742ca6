"""plan_trip: PlanTrip as one of the assistant's tools, so a conversation can plan (and,
once the user approves, save the plan as a trip) with the same planner the RPC uses.

Its parameters are PlanTripRequest's JSON Schema without `trip_id` (planning into an
existing trip is not built); the answer is the plan's JSON mapping. Only a call that
saves is a change, so only that one waits for approval (turns.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from google.protobuf import json_format

from services.assistant.chat import ToolSpec
from services.assistant.tools import ToolArgumentsInvalid, ToolOutcome
from services.assistant.trip_planning import TripPlanning
from tripsage.assistant.v1 import assistant_service_pb2 as pb
from tripsage_core.identity import Principal
from tripsage_core.money import from_proto
from tripsage_core.proto_docs import comment
from tripsage_core.proto_schema import message_schema

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

    def __init__(self, planning: TripPlanning) -> None:
        self.planning = planning

    async def run(self, caller: Principal, arguments: dict[str, Any]) -> ToolOutcome:
        if any(name in arguments for name in ("tripId", *_LEFT_OUT)):
            raise ToolArgumentsInvalid("trip_id is not supported here: plan a new trip")
        try:
            request = json_format.ParseDict(arguments, pb.PlanTripRequest())
        except (json_format.ParseError, TypeError, ValueError) as problem:
            raise ToolArgumentsInvalid(str(problem)) from None
        answer = await self.planning.plan(caller, request, datetime.now(UTC).date())
        plan = answer.plan
        summary = (
            f"a {len(plan.days)}-day plan for {plan.destination},"
            f" {from_proto(plan.estimated_cost).amount():.2f} {plan.estimated_cost.currency_code}"
        )
        if answer.trip_id:
            summary += f", saved as the trip {answer.trip_id}"
        return ToolOutcome(json_format.MessageToDict(answer), summary)
