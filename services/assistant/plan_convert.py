"""PlanTrip's request and plan <-> the contract's messages."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from services.assistant.planner import Plan, PlanItem, PlanKind
from services.assistant.travel_request import PACES, TravelRequest, parse
from tripsage.assistant.v1 import assistant_service_pb2 as pb
from tripsage_core.errors import FieldErrors
from tripsage_core.money import from_proto, money_problems, proto_of
from tripsage_core.validators.dates import parse_date

PROMPT = 2000
WORDS, WORD = 10, 40  # interests, dietary and accessibility needs: how many, how long
_KINDS = {
    PlanKind.TRANSPORT: pb.PLAN_ITEM_KIND_TRANSPORT,
    PlanKind.STAY: pb.PLAN_ITEM_KIND_ACCOMMODATION,
    PlanKind.MEAL: pb.PLAN_ITEM_KIND_MEAL,
    PlanKind.ACTIVITY: pb.PLAN_ITEM_KIND_ACTIVITY,
}
_PACES = {*PACES, "moderate"}


def request_from_proto(request: pb.PlanTripRequest, today: date) -> TravelRequest:
    """The prompt read by rules, then every structured field the caller set over it."""
    errors = FieldErrors()
    if len(request.prompt) > PROMPT:
        errors.add("prompt", f"must be at most {PROMPT} characters")
    asked = parse(request.prompt[:PROMPT], today)
    changes: dict[str, object] = {}
    for name in ("destination", "origin"):
        value = " ".join(getattr(request, name).split())
        if len(value) > 120:
            errors.add(name, "must be at most 120 characters")
        elif value:
            changes[name] = value
    if request.start_date:
        changes["start"] = parse_date(request.start_date, "start_date", errors)
    if request.end_date:
        changes["end"] = parse_date(request.end_date, "end_date", errors)
    if request.adults:
        changes["adults"] = request.adults
    if request.children:
        changes["children"] = request.children
    if request.child_ages:
        changes["child_ages"] = tuple(request.child_ages)
        changes.setdefault("children", len(request.child_ages))
        if len(request.child_ages) != changes["children"]:
            errors.add("child_ages", "give one age per child")
    if request.rooms:
        changes["rooms"] = request.rooms
    if request.HasField("budget"):
        budget = from_proto(request.budget)
        money_problems(budget, "budget", errors, positive=True)
        changes["budget"], changes["currency"] = budget.amount(), budget.currency
    room_type = " ".join(request.room_type.split()).lower()
    if len(room_type) > WORD:
        errors.add("room_type", f"must be at most {WORD} characters")
    elif room_type:
        changes["room_type"] = room_type
    for name, given in (("interests", request.interests), ("dietary", request.dietary),
                        ("accessibility", request.accessibility),
                        ("stay_amenities", request.stay_amenities)):  # fmt: skip
        words = tuple(" ".join(w.split()).lower() for w in given if w.strip())
        if len(words) > WORDS:
            errors.add(name, f"at most {WORDS}")
        elif long := [i for i, w in enumerate(given) if len(" ".join(w.split())) > WORD]:
            errors.add(f"{name}[{long[0]}]", f"must be at most {WORD} characters")
        elif words:
            changes["amenities" if name == "stay_amenities" else name] = words
    if request.pace:
        if request.pace not in _PACES:
            errors.add("pace", f"must be one of {', '.join(sorted(_PACES))}")
        changes["pace"] = request.pace
    if request.no_flights:
        changes["no_flying"] = True
    errors.raise_if_any()
    return replace(asked, **changes)  # type: ignore[arg-type]


def _item(item: PlanItem, currency: str) -> pb.PlanItem:
    proto = pb.PlanItem(
        kind=_KINDS[item.kind],
        title=item.title,
        description=item.description,
        start_time=item.start.strftime("%H:%M"),
        end_time=item.end.strftime("%H:%M"),
        location_name=item.city if item.kind is PlanKind.TRANSPORT else item.title,
        estimated_cost=proto_of(item.cost, currency),
        offer_id=item.based_on if item.kind in (PlanKind.TRANSPORT, PlanKind.STAY) else "",
        based_on_id=item.based_on,
        start_local_time=item.start.isoformat(timespec="minutes"),
        end_local_time=item.end.isoformat(timespec="minutes"),
        time_zone=item.time_zone,
        from_place=item.from_place,
        to_place=item.to_place,
        mode=item.mode,
        check_in_date=item.check_in.isoformat() if item.check_in else "",
        check_out_date=item.check_out.isoformat() if item.check_out else "",
        rooms=item.rooms,
        rate_id=item.rate_id,
        room_type=item.room_type,
    )
    if item.latitude is not None and item.longitude is not None:
        proto.location.latitude, proto.location.longitude = item.latitude, item.longitude
    return proto


def plan_to_proto(plan: Plan) -> pb.TripPlan:
    proto = pb.TripPlan(
        title=plan.title,
        summary=plan.summary,
        destination=plan.destination,
        start_date=plan.start.isoformat(),
        end_date=plan.end.isoformat(),
        days=[
            pb.PlanDay(
                date=day.day.isoformat(),
                title=day.title,
                city=day.city,
                items=[_item(i, plan.currency) for i in day.items],
            )
            for day in plan.days
        ],
        estimated_cost=proto_of(plan.total, plan.currency),
        notes=plan.notes,
        sandbox_data=plan.sandbox,
        adults=plan.adults,
        children=plan.children,
        rooms=plan.rooms,
        exchange_rates={code: str(rate) for code, rate in plan.rates.items()},
    )
    if plan.budget is not None:
        proto.budget.CopyFrom(proto_of(plan.budget, plan.currency))
    return proto
