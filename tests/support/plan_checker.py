"""An independent check of any trip plan, from the public contract alone.

It shares no code with the planner (services/assistant/planner.py): it reads a
`TripPlan` and the `PlanTripRequest` it answers and lists every constraint the plan
breaks, after TravelPlanner's commonsense constraints (within the data, complete
information, within the current city, a reasonable city route, diverse restaurants
and attractions, non-conflicting transport, stays for every night) and its hard ones
(budget, rooms, transport, diets, step-free access), plus times that fit each day, the
places' opening hours (from GetPlace, the public API) and the party's size.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import grpc

from tripsage.assistant.v1 import assistant_service_pb2 as pb
from tripsage.travel.v1 import travel_service_pb2 as travel_pb

COMMONSENSE = (
    "within_data", "complete", "current_city", "city_route", "diverse",
    "transport_conflict", "stays",
)  # fmt: skip
HARD = ("budget", "rooms", "transport", "party", "times", "dietary", "accessibility",
        "opening_hours", "capacity", "amenities", "travel_time")  # fmt: skip


def _money(value: object) -> Decimal:
    units = getattr(value, "units", 0)
    nanos = getattr(value, "nanos", 0)
    return Decimal(units) + Decimal(nanos) / Decimal(10**9)


def _when(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _open_during(place: travel_pb.Place, start: datetime, end: datetime) -> bool:
    """The visit, in local time, inside one weekly opening of the place (none known: open)."""
    if not place.opening_periods:
        return True
    week = timedelta(days=7)
    monday = datetime.combine(start.date() - timedelta(days=start.weekday()), datetime.min.time())
    for period in place.opening_periods:
        if period.close_day == 0:  # DAY_OF_WEEK_UNSPECIFIED: never closes
            return True
        opens = monday + timedelta(days=period.open_day - 1, hours=period.open_time.hours,
                                   minutes=period.open_time.minutes)  # fmt: skip
        closes = monday + timedelta(days=period.close_day - 1, hours=period.close_time.hours,
                                    minutes=period.close_time.minutes)  # fmt: skip
        if closes <= opens:
            closes += week
        # The same period a week earlier covers a Sunday-night opening seen from Monday.
        if any(opens + shift <= start and end <= closes + shift for shift in (-week, timedelta())):
            return True
    return False


STEP_FREE_NEEDS = ("wheelchair", "step-free", "step free")


def _stay_problems(
    item: pb.PlanItem, stay: travel_pb.Accommodation | None, request: pb.PlanTripRequest
) -> set[str]:
    if stay is None or f"Stay at {stay.name}" != item.title:
        return {"within_data"}
    rate = next((r for r in stay.rates if r.id == item.rate_id), None)
    if rate is None:
        return {"within_data"}
    problems = set()
    party = max(1, request.adults) + max(request.children, len(request.child_ages))
    if rate.max_occupancy * item.rooms < party:
        problems.add("capacity")
    if request.room_type and request.room_type.lower() not in rate.room_type.lower():
        problems.add("rooms")
    wanted = {" ".join(a.lower().split()) for a in request.stay_amenities}
    if not wanted <= {a.lower() for a in stay.amenities}:
        problems.add("amenities")
    return problems


def check(plan: pb.TripPlan, request: pb.PlanTripRequest, found: Found | None = None) -> set[str]:
    """The constraints the plan breaks (empty: it passes every one). With what its items
    name looked up (`places_of`) it also checks that each place and stay exists under
    that name, diets, step-free access, opening hours, and that the stay's rate has the
    room kind asked for, sleeps the party in its rooms and the stay has the amenities."""
    places = found.places if found else None
    broken: set[str] = set()
    diets = {" ".join(d.lower().split()) for d in request.dietary}
    step_free = any(n in " ".join(request.accessibility).lower() for n in STEP_FREE_NEEDS)
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
                if found is not None:
                    broken |= _stay_problems(item, found.stays.get(item.based_on_id), request)
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
            if places is not None and item.kind in (pb.PLAN_ITEM_KIND_MEAL,
                                                    pb.PLAN_ITEM_KIND_ACTIVITY):  # fmt: skip
                place = places.get(item.based_on_id)
                if place is None or place.name != item.title:
                    broken.add("within_data")
                else:
                    if not _open_during(place, start, end):
                        broken.add("opening_hours")
                    if step_free and not place.accessibility.wheelchair_accessible_entrance:
                        broken.add("accessibility")
                    if item.kind == pb.PLAN_ITEM_KIND_MEAL and not diets <= set(
                        place.dietary_options
                    ):
                        broken.add("dietary")
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

    if found is not None:
        for day in plan.days:
            for before, after in itertools.pairwise(_visits(day)):
                left, arrive = _when(before.end_local_time), _when(after.start_local_time)
                seconds = found.travel_seconds.get((before.based_on_id, after.based_on_id))
                spare = (arrive - left).total_seconds() if left and arrive else None
                if spare is None or seconds is None or spare < seconds:
                    broken.add("travel_time")
    if total != _money(plan.estimated_cost):
        broken.add("budget")
    if request.HasField("budget") and total > _money(request.budget):
        broken.add("budget")
    if set(expected_days[:-1]) - nights_covered:
        broken.add("stays")
    if request.no_flights and any(f.mode == "flight" for f in flights):
        broken.add("transport")
    at_home = request.origin.casefold() == plan.destination.casefold()
    if request.origin and not request.no_flights and not at_home:
        out = [f for f in flights if f.to_place == plan.destination]
        back = [f for f in flights if f.from_place == plan.destination]
        if not out or (len(expected_days) > 1 and not back):
            broken.add("transport")
        if out and back and _when(back[0].start_local_time) <= _when(out[0].end_local_time):  # type: ignore[operator]
            broken.add("city_route")
    if plan.adults != max(1, request.adults) or plan.children < request.children:
        broken.add("party")
    return broken


@dataclass(frozen=True)
class Found:
    """What a plan's items name, looked up in the public API as the traveller: each meal's
    and visit's place (GetPlace) and each stay with its rates (GetAccommodation, for
    the party); None for one that is not found."""

    places: dict[str, travel_pb.Place | None]
    stays: dict[str, travel_pb.Accommodation | None]
    # (from, to) place ids of consecutive visits -> seconds by public transport
    travel_seconds: dict[tuple[str, str], int] = field(default_factory=dict)


async def places_of(
    travel: Any, plan: pb.TripPlan, metadata: Sequence[tuple[str, str]],
    request: pb.PlanTripRequest | None = None,
) -> Found:  # fmt: skip
    """Looks up every place and stay of `plan`, and the time by public transport between
    consecutive visits (GetTravelTime), with a TravelServiceAsyncStub."""
    found = Found({}, {})
    missing = (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT)
    for day in plan.days:
        for item in day.items:
            try:
                if item.kind in (pb.PLAN_ITEM_KIND_MEAL, pb.PLAN_ITEM_KIND_ACTIVITY):
                    if item.based_on_id not in found.places:
                        found.places[item.based_on_id] = None
                        reply = await travel.GetPlace(
                            travel_pb.GetPlaceRequest(place_id=item.based_on_id),
                            metadata=metadata,
                        )
                        found.places[item.based_on_id] = reply.place
                elif item.kind == pb.PLAN_ITEM_KIND_ACCOMMODATION:
                    found.stays[item.based_on_id] = None
                    stay = await travel.GetAccommodation(
                        travel_pb.GetAccommodationRequest(
                            accommodation_id=item.based_on_id,
                            check_in_date=item.check_in_date, check_out_date=item.check_out_date,
                            adults=plan.adults, rooms=item.rooms,
                            child_ages=list(request.child_ages) if request else [],
                            currency=plan.estimated_cost.currency_code,
                        ),
                        metadata=metadata,
                    )  # fmt: skip
                    found.stays[item.based_on_id] = stay.accommodation
            except grpc.aio.AioRpcError as error:
                if error.code() not in missing:
                    raise
        for before, after in itertools.pairwise(_visits(day)):
            route = await travel.GetTravelTime(
                travel_pb.GetTravelTimeRequest(
                    origin=travel_pb.Waypoint(place_id=before.based_on_id),
                    destination=travel_pb.Waypoint(place_id=after.based_on_id),
                    mode=travel_pb.TRAVEL_MODE_TRANSIT,
                ),
                metadata=metadata,
            )
            found.travel_seconds[(before.based_on_id, after.based_on_id)] = route.duration.seconds
    return found


def _visits(day: pb.PlanDay) -> list[pb.PlanItem]:
    """A day's meals and visits in time order."""
    kinds = (pb.PLAN_ITEM_KIND_MEAL, pb.PLAN_ITEM_KIND_ACTIVITY)
    return sorted((i for i in day.items if i.kind in kinds), key=lambda i: i.start_local_time)
