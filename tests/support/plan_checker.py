"""An independent check of any trip plan, from the public contract alone.

It shares no code with the planner (services/assistant/planner.py): it reads a
`TripPlan` and the `PlanTripRequest` it answers and lists every constraint the plan
breaks, after TravelPlanner's commonsense constraints (within the data, complete
information, within the current city, a reasonable city route, diverse restaurants
and attractions, non-conflicting transport, stays for every night) and its hard ones
(budget, rooms, transport), plus times that fit each day and the party's size.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tripsage.assistant.v1 import assistant_service_pb2 as pb

COMMONSENSE = (
    "within_data", "complete", "current_city", "city_route", "diverse",
    "transport_conflict", "stays",
)  # fmt: skip
HARD = ("budget", "rooms", "transport", "party", "times")


def _money(value: object) -> Decimal:
    units = getattr(value, "units", 0)
    nanos = getattr(value, "nanos", 0)
    return Decimal(units) + Decimal(nanos) / Decimal(10**9)


def _when(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def check(plan: pb.TripPlan, request: pb.PlanTripRequest) -> set[str]:
    """The constraints the plan breaks (empty: it passes every one)."""
    broken: set[str] = set()
    currency = plan.estimated_cost.currency_code
    try:
        first, last = date.fromisoformat(plan.start_date), date.fromisoformat(plan.end_date)
    except ValueError:
        return {"complete"}
    expected_days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    if [d.date for d in plan.days] != [d.isoformat() for d in expected_days]:
        broken.add("complete")
    if request.start_date and plan.start_date != request.start_date:
        broken.add("complete")
    if request.end_date and plan.end_date != request.end_date:
        broken.add("complete")

    total = Decimal(0)
    seen_places: set[str] = set()
    nights_covered: set[date] = set()
    flights = []
    for day in plan.days:
        if not day.city:
            broken.add("complete")
        elif day.city != plan.destination:
            broken.add("current_city")
        timed = []
        for item in day.items:
            if not item.based_on_id or not item.title:
                broken.add("within_data")
            if item.estimated_cost.currency_code != currency:
                broken.add("budget")
            total += _money(item.estimated_cost)
            start, end = _when(item.start_local_time), _when(item.end_local_time)
            try:
                ZoneInfo(item.time_zone)
            except (ZoneInfoNotFoundError, ValueError):
                broken.add("complete")
            if start is None or end is None or end <= start:
                broken.add("times")
                continue
            if item.kind == pb.PLAN_ITEM_KIND_ACCOMMODATION:
                if item.rooms < max(1, request.rooms):
                    broken.add("rooms")
                check_in = date.fromisoformat(item.check_in_date)
                check_out = date.fromisoformat(item.check_out_date)
                if start.date() != check_in or end.date() != check_out:
                    broken.add("times")
                nights_covered |= {check_in + timedelta(days=n)
                                   for n in range((check_out - check_in).days)}  # fmt: skip
                continue
            if start.date().isoformat() != day.date:
                broken.add("times")
            if item.kind == pb.PLAN_ITEM_KIND_TRANSPORT:
                flights.append(item)
            if item.kind in (pb.PLAN_ITEM_KIND_MEAL, pb.PLAN_ITEM_KIND_ACTIVITY):
                # The same place twice, by its id or by its name (TravelPlanner's rule).
                name = " ".join(item.title.lower().split())
                if {item.based_on_id, name} & seen_places:
                    broken.add("diverse")
                seen_places |= {item.based_on_id, name}
            timed.append((start, end))
        timed.sort()
        for (_, end_a), (start_b, _) in itertools.pairwise(timed):
            if start_b < end_a:
                broken.add("transport_conflict" if flights else "times")

    if total != _money(plan.estimated_cost):
        broken.add("budget")
    if request.HasField("budget") and total > _money(request.budget):
        broken.add("budget")
    if set(expected_days[:-1]) - nights_covered:
        broken.add("stays")
    if request.no_flights and any(f.mode == "flight" for f in flights):
        broken.add("transport")
    if request.origin and not request.no_flights:
        out = [f for f in flights if f.to_place == plan.destination]
        back = [f for f in flights if f.from_place == plan.destination]
        if not out or (len(expected_days) > 1 and not back):
            broken.add("transport")
        if out and back and _when(back[0].start_local_time) <= _when(out[0].end_local_time):  # type: ignore[operator]
            broken.add("city_route")
    if plan.adults != max(1, request.adults) or plan.children < request.children:
        broken.add("party")
    return broken
