"""The offline planner: a day-by-day itinerary from travel search results. No transport here.

It runs the same tools the assistant has (as the user): airports and flights there
and back (unless the traveller will not fly), one stay for every night with the
party's rooms and children, then places for the traveller's interests and meals
that fit their diet, slotted into each day by pace around the flights. Everything in
a plan comes from a search result (its id is kept); costs are for the whole party in
the plan's currency, converted with the suite's one rate table (tripsage_core.money),
and the total is their sum. When the request cannot be met it says which constraint
fails and by how much (PlanRefused), never a plan that breaks it.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from services.assistant.chat import ToolCallRequest
from services.assistant.tools import ToolOutcome
from services.assistant.travel_request import TravelRequest
from tripsage_core.errors import FailedPrecondition, FieldErrors
from tripsage_core.identity import Principal
from tripsage_core.money import BUILT_IN_TABLE, CENT, REFERENCE_CURRENCY, RateTable, is_currency
from tripsage_core.validators.dates import BOOKING_HORIZON_DAYS


class PlanKind(StrEnum):
    TRANSPORT = "transport"
    STAY = "stay"
    MEAL = "meal"
    ACTIVITY = "activity"


MAX_DAYS = 14
DEFAULT_DAYS = 3
MAX_PARTY = 12
# A meal's typical price per person by Google's price level (0 free .. 4 very expensive),
# and an attraction's; stated in the plan's notes.
MEAL_PRICE = {0: Decimal(8), 1: Decimal(15), 2: Decimal(28), 3: Decimal(50), 4: Decimal(90)}
ACTIVITY_PRICE = Decimal(15)
CHILD_SHARE = Decimal("0.5")
SLOTS = {"relaxed": 1, "moderate": 2, "packed": 3}
STEP_FREE = ("wheelchair", "step-free")  # accessibility needs a step-free entrance meets
ACTIVITY_TIMES = ((time(10), time(12)), (time(15), time(17)), (time(17, 30), time(19)))
LUNCH, DINNER = (time(13), time(14, 15)), (time(20), time(21, 30))


@dataclass(frozen=True)
class PlanItem:
    kind: PlanKind
    title: str
    start: datetime  # local, in time_zone
    end: datetime
    time_zone: str
    cost: Decimal  # for the whole party, in the plan's currency
    based_on: str  # the flight offer, stay or place id it comes from
    city: str
    description: str = ""
    from_place: str = ""  # transport
    to_place: str = ""
    mode: str = ""  # transport: "flight", "ground"
    check_in: date | None = None  # stays
    check_out: date | None = None
    rooms: int = 0
    rate_id: str = ""  # stays: the rate booked
    room_type: str = ""
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class PlanDay:
    day: date
    city: str
    title: str
    items: list[PlanItem]


@dataclass(frozen=True)
class Plan:
    title: str
    summary: str
    destination: str
    start: date
    end: date
    days: list[PlanDay]
    total: Decimal
    currency: str
    adults: int
    children: int
    rooms: int
    budget: Decimal | None
    notes: list[str] = field(default_factory=list)
    rates: dict[str, Decimal] = field(default_factory=dict)  # 1 unit of X = rate plan units
    sandbox: bool = False


class ToolRunner(Protocol):
    async def run(self, caller: Principal, call: ToolCallRequest) -> ToolOutcome: ...


def plan_refused(constraint: str, message: str, **metadata: str) -> FailedPrecondition:
    return FailedPrecondition(
        message, reason="PLAN_NOT_POSSIBLE", metadata={"constraint": constraint, **metadata}
    )


def _checked(request: TravelRequest, today: date) -> TravelRequest:
    errors = FieldErrors()
    if not request.destination:
        errors.add("destination", "is required: say where (a city)")
    if request.currency is not None and not is_currency(request.currency):
        errors.add("budget.currency_code", "is not an ISO 4217 currency")
    if request.budget is not None and (not request.budget.is_finite() or request.budget <= 0):
        errors.add("budget", "must be a positive amount")
    adults = request.adults if request.adults is not None else 1
    if not 1 <= adults <= MAX_PARTY:
        errors.add("adults", f"must be 1 to {MAX_PARTY}")
    if request.children < 0 or adults + request.children > MAX_PARTY:
        errors.add("children", f"the party is at most {MAX_PARTY}")
    if any(not 0 <= age <= 17 for age in request.child_ages):
        errors.add("child_ages", "each child is 0 to 17")
    if request.rooms is not None and not 1 <= request.rooms <= adults:
        errors.add("rooms", "must be at least 1 and at most one per adult (a room needs one)")
    start = request.start or today + timedelta(days=28)
    end = request.end or start + timedelta(days=DEFAULT_DAYS - 1)
    if start < today:
        errors.add("start_date", "is in the past")
    elif end > (horizon := today + timedelta(days=BOOKING_HORIZON_DAYS)):
        field = "end_date" if start <= horizon else "start_date"
        errors.add(field, f"is more than {BOOKING_HORIZON_DAYS} days ahead: searches reach a year")
    if end < start:
        errors.add("end_date", "is before start_date")
    elif (end - start).days + 1 > MAX_DAYS:
        errors.add("end_date", f"a plan is at most {MAX_DAYS} days")
    errors.raise_if_any()
    ages = request.child_ages or (8,) * request.children  # an unknown child's age
    rooms = request.rooms or max(1, (adults + 1) // 2)
    return replace(request, adults=adults, start=start, end=end, child_ages=ages, rooms=rooms)


def _amount(money: Any) -> tuple[Decimal, str] | None:
    if not isinstance(money, dict) or not money.get("currencyCode"):
        return None
    units = Decimal(str(money.get("units", 0) or 0))
    nanos = Decimal(int(money.get("nanos", 0) or 0)) / Decimal(1_000_000_000)
    return units + nanos, str(money["currencyCode"])


def _in_zone(instant: str, zone: str) -> datetime | None:
    """An RFC 3339 instant as a naive local time in `zone`."""
    try:
        moment = datetime.fromisoformat(instant.replace("Z", "+00:00")) if instant else None
    except ValueError:
        return None
    if moment is None or moment.tzinfo is None:
        return None
    return moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


class Planner:
    def __init__(self, tools: ToolRunner, rates: RateTable = BUILT_IN_TABLE) -> None:
        self.tools = tools
        self.rates = rates

    async def _call(self, caller: Principal, name: str, **arguments: Any) -> dict[str, Any]:
        outcome = await self.tools.run(
            caller, ToolCallRequest(f"plan_{uuid.uuid4().hex[:10]}", name, arguments)
        )
        if outcome.error:
            raise plan_refused(name, f"the travel search {name} failed: {outcome.error}")
        return outcome.result

    async def _stay_with_room(
        self,
        caller: Principal,
        stays: list[dict[str, Any]],
        request: TravelRequest,
        currency: str,
        party: int,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The first stay with a rate whose room is of the kind asked for and whose rooms
        sleep the party (GetAccommodation's rates), and that rate (the cheapest such)."""
        assert request.start
        assert request.end
        rooms = request.rooms or 1
        for stay in stays:
            detail = await self._call(
                caller, "get_stay", accommodationId=stay["id"],
                checkInDate=request.start.isoformat(), checkOutDate=request.end.isoformat(),
                adults=request.adults, childAges=list(request.child_ages), rooms=rooms,
                currency=currency,
            )  # fmt: skip
            fitting = [
                r for r in (detail.get("accommodation") or {}).get("rates") or []
                if int(r.get("maxOccupancy") or 0) * rooms >= party and _amount(r.get("totalPrice"))
                and (not request.room_type
                     or request.room_type.lower() in str(r.get("roomType", "")).lower())
            ]  # fmt: skip
            if fitting:
                cheapest = min(fitting, key=lambda r: _amount(r["totalPrice"]) or (Decimal(0), ""))
                return detail["accommodation"], cheapest
        kind = f"{request.room_type} " if request.room_type else ""
        raise plan_refused(
            "rooms",
            f"no stay has {rooms} {kind}room(s) that sleep {party}; ask for more rooms",
        )

    async def plan(self, caller: Principal, asked: TravelRequest, today: date) -> Plan:
        request = _checked(asked, today)
        assert request.start
        assert request.end
        assert request.adults
        assert request.destination
        currency = request.currency or REFERENCE_CURRENCY
        sandbox = False
        used_rates: dict[str, Decimal] = {}
        notes: list[str] = []

        def cost(money: Any) -> Decimal:
            found = _amount(money)
            if found is None:
                return Decimal(0)
            amount, code = found
            rate = self.rates.rate(code, currency)
            if rate is None:
                raise plan_refused("currency", f"no exchange rate from {code} to {currency}")
            if code != currency:
                used_rates[code] = rate.rate
            return (amount * rate.rate).quantize(CENT)

        def in_plan_currency(amount_eur: Decimal) -> Decimal:
            rate = self.rates.rate(REFERENCE_CURRENCY, currency)
            assert rate is not None  # the currency was checked against the table below
            return (amount_eur * rate.rate).quantize(CENT)

        if not self.rates.knows(currency):
            raise plan_refused("currency", f"no exchange rate for {currency}")

        here = await self._call(caller, "list_airports", query=request.destination, pageSize=5)
        airports = here.get("airports") or []
        city_airport = next((a for a in airports if a.get("timeZone")), None)
        if city_airport is None:
            raise plan_refused(
                "destination",
                f"I don't know a city called {request.destination!r} (no airport or city"
                " of that name)",
                place=request.destination[:80],
            )
        city = str(city_airport.get("city") or request.destination)
        zone = str(city_airport["timeZone"])
        party = request.adults + request.children
        people = Decimal(request.adults) + CHILD_SHARE * request.children

        days = [
            request.start + timedelta(days=n) for n in range((request.end - request.start).days + 1)
        ]
        items: dict[date, list[PlanItem]] = {d: [] for d in days}
        free_from = {d: datetime.combine(d, time(9)) for d in days}
        free_until = {d: datetime.combine(d, time(22)) for d in days}

        # Getting there and back.
        at_home = request.origin is not None and request.origin.casefold() in (
            request.destination.casefold(),
            city.casefold(),
        )
        if at_home:
            notes.append(f"You start in {city}: no transport there and back is planned.")
        if request.origin and not request.no_flying and not at_home:
            origin = await self._call(caller, "list_airports", query=request.origin, pageSize=5)
            from_airports = origin.get("airports") or []
            if not from_airports:
                raise plan_refused(
                    "origin", f"I don't know where {request.origin!r} is", place=request.origin[:80]
                )
            start_code = from_airports[0].get("cityCode") or from_airports[0]["iataCode"]
            end_code = city_airport.get("cityCode") or city_airport["iataCode"]
            # There and back, a day trip too (the way back the same day).
            slices = [
                {"origin": start_code, "destination": end_code,
                 "departureDate": request.start.isoformat()},
                {"origin": end_code, "destination": start_code,
                 "departureDate": request.end.isoformat()},
            ]  # fmt: skip
            # A lap infant needs an adult; the other babies get a seat, booked as the
            # youngest child a fare allows.
            lap = min(request.adults, sum(1 for a in request.child_ages if a < 2))
            seated = sorted(request.child_ages)[lap:]
            found = await self._call(
                caller, "search_flights", slices=slices, maxResults=20, currency=currency,
                passengers={"adults": request.adults, "childAges": [max(2, a) for a in seated],
                            "infants": lap},
            )  # fmt: skip
            if lap < sum(1 for a in request.child_ages if a < 2):
                notes.append("Babies beyond one per adult have a seat of their own.")
            sandbox = sandbox or _sandbox(found)
            offers = sorted(
                (o for o in found.get("offers") or []
                 if _round_trip_fits(o, zone, request.start, request.end)),
                key=lambda o: cost(o.get("totalPrice")),
            )  # fmt: skip
            if not offers:
                raise plan_refused(
                    "transport",
                    f"no flights from {request.origin} to {city} and back that land on the"
                    " first day and leave on the last, with time there (at least 4 hours"
                    " between landing and flying home)",
                )
            offer = offers[0]
            fare = cost(offer.get("totalPrice"))
            for index, leg in enumerate(offer.get("slices") or []):
                segments = leg.get("segments") or []
                if not segments:
                    continue
                # Both ends in the destination's zone (the plan's clock), from the
                # instants: the origin's local times would read as the destination's.
                departs = _in_zone(segments[0].get("departureTime", ""), zone)
                arrives = _in_zone(segments[-1].get("arrivalTime", ""), zone)
                if departs is None or arrives is None:
                    continue
                outbound = index == 0
                day = request.start if outbound else request.end
                items[day].append(PlanItem(
                    kind=PlanKind.TRANSPORT,
                    title=f"Flight {segments[0].get('origin')} → {segments[-1].get('destination')}",
                    start=departs, end=arrives, time_zone=zone,
                    cost=fare if outbound else Decimal(0), based_on=str(offer["id"]), city=city,
                    description=f"{offer.get('ownerAirlineName') or offer.get('ownerAirline')},"
                    f" {len(segments)} segment(s); the fare covers both ways for {party}",
                    from_place=request.origin if outbound else city,
                    to_place=city if outbound else request.origin, mode="flight",
                ))  # fmt: skip
                if outbound:
                    free_from[day] = max(free_from[day], arrives + timedelta(hours=1, minutes=30))
                else:
                    free_until[day] = min(free_until[day], departs - timedelta(hours=3))
        elif request.origin and not at_home:
            notes.append(
                f"No flights, as asked: travel from {request.origin} to {city} by train, coach"
                " or car is not priced here; add it to the budget."
            )

        # A stay for every night.
        nights = len(days) - 1
        if nights:
            found = await self._call(
                caller, "search_stays", destination=city,
                checkInDate=request.start.isoformat(), checkOutDate=request.end.isoformat(),
                adults=request.adults, childAges=list(request.child_ages), rooms=request.rooms,
                maxResults=20, currency=currency, amenities=list(request.amenities),
            )  # fmt: skip
            sandbox = sandbox or _sandbox(found)
            stays = [s for s in found.get("accommodations") or [] if _amount(s.get("totalPrice"))]
            if not stays:
                raise plan_refused("stay", f"no stay in {city} for those {nights} nights")
            spent = sum((i.cost for day in items.values() for i in day), Decimal(0))
            share = (request.budget - spent) * Decimal("0.6") if request.budget else None

            # Best rated within the share of the budget, then the cheaper ones: the first
            # whose rates have a room of the kind asked for that sleeps the party.
            def order(stay: dict[str, Any]) -> tuple[int, float]:
                price = cost(stay.get("totalPrice"))
                if share is None or price <= share:
                    return 0, -float(stay.get("reviewScore") or 0)
                return 1, float(price)

            stays.sort(key=order)
            chosen, rate = await self._stay_with_room(caller, stays[:6], request, currency, party)
            check_in = datetime.combine(request.start, time(15))
            items[request.start].append(PlanItem(
                kind=PlanKind.STAY, title=f"Stay at {chosen.get('name')}",
                # A late arrival checks in late, still on the check-in day.
                start=min(
                    max(check_in, free_from[request.start] - timedelta(minutes=30)),
                    datetime.combine(request.start, time(23, 59)),
                ),
                end=datetime.combine(request.end, time(11)), time_zone=zone,
                cost=cost(rate.get("totalPrice")), based_on=str(chosen["id"]), city=city,
                description=f"{nights} nights, {request.rooms} x {rate.get('roomType', 'room')}"
                f" ({rate.get('boardType', '')}) for {party}",
                check_in=request.start, check_out=request.end, rooms=request.rooms or 1,
                rate_id=str(rate.get("id", "")), room_type=str(rate.get("roomType", "")),
                latitude=(chosen.get("location") or {}).get("latitude"),
                longitude=(chosen.get("location") or {}).get("longitude"),
            ))  # fmt: skip
            free_from[request.start] = max(
                free_from[request.start], check_in + timedelta(minutes=45)
            )

        # Things to do and places to eat.
        interests = list(request.interests) or ["top sights"]
        pools: list[list[dict[str, Any]]] = []
        for interest in interests[:4]:
            if interest == "food":
                continue
            found = await self._call(
                caller, "search_places", query=f"{interest} in {city}", maxResults=20
            )
            sandbox = sandbox or _sandbox(found)
            pools.append(list(found.get("places") or []))
        diets = " and ".join(request.dietary)
        found = await self._call(
            caller, "search_places", query=f"{diets} restaurants in {city}".strip(), maxResults=20
        )
        sandbox = sandbox or _sandbox(found)
        restaurants = [p for p in found.get("places") or [] if _caters(p, request.dietary)]
        if request.dietary and not restaurants:
            raise plan_refused("dietary", f"no restaurant in {city} is known to cater for {diets}")
        step_free = any(need in STEP_FREE for need in request.accessibility)
        if step_free:
            restaurants = [p for p in restaurants if _step_free(p)]
            pools = [[p for p in pool if _step_free(p)] for pool in pools]
            if not restaurants or not any(pools):
                raise plan_refused(
                    "accessibility", f"too few places in {city} are known to be step-free"
                )
        used: set[str] = set()

        def take(
            pool: list[dict[str, Any]], start: datetime, end: datetime, day: list[PlanItem]
        ) -> dict[str, Any] | None:
            # Once each: by id, and by name (two listings of one museum are one visit);
            # open for the whole visit, and reachable from the day's other visits.
            for place in pool:
                name = " ".join(str(place.get("name", "")).lower().split())
                if (
                    place.get("id")
                    and not {place["id"], name} & used
                    and _open(place, start, end)
                    and _reachable(place, start, end, day)
                ):
                    used.update((place["id"], name))
                    return place
            return None

        def each(place: dict[str, Any], estimate: Decimal) -> Decimal:
            """One adult's cost: the place's typical price (the middle of its range),
            else the estimate, in the plan's currency."""
            typical = place.get("typicalPrice") or {}
            if _amount(typical.get("startPrice")) is None:
                return in_plan_currency(estimate)
            low = cost(typical["startPrice"])
            high = cost(typical["endPrice"]) if _amount(typical.get("endPrice")) else low
            return (low + high) / 2

        slots = SLOTS.get(request.pace or "moderate", 2)
        turn = 0
        for day in days:
            planned: list[PlanItem] = []
            for begin, finish in ACTIVITY_TIMES[:slots]:
                start_at, end_at = datetime.combine(day, begin), datetime.combine(day, finish)
                if start_at < free_from[day] or end_at > free_until[day] or not pools:
                    continue
                place = None
                for _ in range(len(pools)):
                    place = take(pools[turn % len(pools)], start_at, end_at, planned)
                    turn += 1
                    if place:
                        break
                if place is None:
                    continue
                free = place.get("priceLevel", -1) == 0
                planned.append(_place_item(
                    PlanKind.ACTIVITY, place, start_at, end_at, zone, city,
                    (each(place, Decimal(0) if free else ACTIVITY_PRICE) * people).quantize(CENT),
                ))  # fmt: skip
            for begin, finish in (LUNCH, DINNER):
                start_at, end_at = datetime.combine(day, begin), datetime.combine(day, finish)
                if start_at < free_from[day] or end_at > free_until[day]:
                    continue
                place = take(restaurants, start_at, end_at, planned)
                if place is None:
                    continue
                level = place.get("priceLevel", -1)
                estimate = MEAL_PRICE.get(level if isinstance(level, int) else -1, MEAL_PRICE[2])
                planned.append(_place_item(
                    PlanKind.MEAL, place, start_at, end_at, zone, city,
                    (each(place, estimate) * people).quantize(CENT),
                ))  # fmt: skip
            items[day].extend(planned)
            if not planned and not items[day]:
                notes.append(f"{day.isoformat()}: a free day (no more places matched).")

        plan_days = [
            PlanDay(
                day, city, _day_title(n, len(days), city), sorted(items[day], key=lambda i: i.start)
            )
            for n, day in enumerate(days)
        ]
        total = sum((i.cost for d in plan_days for i in d.items), Decimal(0))
        if request.budget is not None and total > request.budget:
            short = (total - request.budget).quantize(CENT)
            raise plan_refused(
                "budget",
                f"the cheapest plan I can make costs {total:.2f} {currency}, {short:.2f}"
                f" {currency} over the budget of {request.budget:.2f} {currency}",
                shortfall=f"{short:.2f} {currency}",
            )
        notes.append(
            "Meals and visits cost each place's typical price for one adult (the middle of"
            " its range) where it gives one, else an estimate by price level (meals"
            f" {MEAL_PRICE[1]}–{MEAL_PRICE[3]} EUR, attractions {ACTIVITY_PRICE} EUR);"
            " children half."
        )
        if request.dietary:
            notes.append(f"Every restaurant caters for: {', '.join(request.dietary)}.")
        if step_free:
            notes.append("Every place has a step-free entrance; check the stay's access with it.")
        elif request.accessibility:
            notes.append(
                f"Accessibility asked for ({', '.join(request.accessibility)}): check each place;"
                " the providers do not always say."
            )
        return Plan(
            title=f"{len(days)} days in {city}",
            summary=_summary(request, city, len(days), party),
            destination=city,
            start=request.start,
            end=request.end,
            days=plan_days,
            total=total,
            currency=currency,
            adults=request.adults,
            children=request.children,
            rooms=request.rooms or 1,
            budget=request.budget,
            notes=notes,
            rates=used_rates,
            sandbox=sandbox,
        )


_ITEM_KINDS = {
    PlanKind.TRANSPORT: "ITINERARY_ITEM_KIND_FLIGHT",
    PlanKind.STAY: "ITINERARY_ITEM_KIND_ACCOMMODATION",
    PlanKind.MEAL: "ITINERARY_ITEM_KIND_MEAL",
    PlanKind.ACTIVITY: "ITINERARY_ITEM_KIND_ACTIVITY",
}


def _instant(local: datetime, zone: str) -> str:
    return local.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC).isoformat().replace("+00:00", "Z")


def _money(amount: Decimal, currency: str) -> dict[str, Any]:
    units = int(amount)
    return {"currencyCode": currency, "units": str(units),
            "nanos": int((amount - units) * 1_000_000_000)}  # fmt: skip


async def save_plan(
    tools: ToolRunner, caller: Principal, plan: Plan, *, into: str | None = None
) -> str:
    """The plan as a new trip of the caller's, or `into` an existing one, with one item
    per planned item (the trips service checks and stores them as the caller); the
    trip's id."""

    async def call(name: str, **arguments: Any) -> dict[str, Any]:
        outcome = await tools.run(
            caller, ToolCallRequest(f"save_{uuid.uuid4().hex[:10]}", name, arguments)
        )
        if outcome.error:
            raise plan_refused("save", f"the plan could not be saved: {outcome.error}")
        return outcome.result

    if into is not None:
        trip_id = into
    else:
        trip: dict[str, Any] = {
            "title": plan.title, "description": plan.summary,
            "startDate": plan.start.isoformat(), "endDate": plan.end.isoformat(),
            "destinations": [{"name": plan.destination}],
            "travelers": {"adults": plan.adults, "children": plan.children},
        }  # fmt: skip
        if plan.budget is not None:
            trip["budget"] = _money(plan.budget, plan.currency)
        created = await call("create_trip", trip=trip)
        trip_id = str(created["trip"]["id"])
    for day in plan.days:
        for item in day.items:
            await call("add_item", tripId=trip_id, item={
                "kind": _ITEM_KINDS[item.kind], "title": item.title[:200],
                "description": item.description[:2000], "day": item.start.date().isoformat(),
                "startTime": _instant(item.start, item.time_zone),
                "endTime": _instant(item.end, item.time_zone), "timeZone": item.time_zone,
                "cost": _money(item.cost, plan.currency), "offerId": item.based_on[:200],
            })  # fmt: skip
    return trip_id


def _place_item(
    kind: PlanKind,
    place: dict[str, Any],
    start: datetime,
    end: datetime,
    zone: str,
    city: str,
    cost: Decimal,
) -> PlanItem:
    where = place.get("location") or {}
    return PlanItem(
        kind=kind, title=str(place.get("name", "")), start=start, end=end, time_zone=zone,
        cost=cost, based_on=str(place["id"]), city=city, description=str(place.get("address", "")),
        latitude=where.get("latitude"), longitude=where.get("longitude"),
    )  # fmt: skip


TRANSIT_KMH, TRANSIT_WAIT_MINUTES, DETOUR = 20, 10, 1.4  # a cautious city-transit estimate


def _transit_minutes(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Door to door by public transport, estimated from the great-circle distance."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    haversine = (math.sin((lat2 - lat1) / 2) ** 2
                 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)  # fmt: skip
    km = 2 * 6371 * math.asin(math.sqrt(haversine))
    return TRANSIT_WAIT_MINUTES + km * DETOUR / TRANSIT_KMH * 60


def _reachable(
    place: dict[str, Any], start: datetime, end: datetime, others: list[PlanItem]
) -> bool:
    """Whether the gaps to the visits before and after leave time to get there."""
    where = place.get("location") or {}
    if "latitude" not in where or "longitude" not in where:
        return True
    here = (float(where["latitude"]), float(where["longitude"]))
    for other in others:
        if other.latitude is None or other.longitude is None:
            continue
        there = (other.latitude, other.longitude)
        gap = (start - other.end if other.end <= start else other.start - end).total_seconds()
        if gap >= 0 and gap / 60 < _transit_minutes(there, here):
            return False
    return True


_WEEKDAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
_DAYS = {name: number for number, name in enumerate(_WEEKDAYS, start=1)}  # google.type.DayOfWeek
_WEEK = 7 * 24 * 60


def _open(place: dict[str, Any], start: datetime, end: datetime) -> bool:
    """Whether one of the place's weekly opening periods (local time) spans the visit;
    a place that gives no hours is taken as open."""
    periods = place.get("openingPeriods") or []
    if not periods:
        return True

    def minute(day: int, clock: dict[str, Any]) -> int:
        return (day - 1) * 1440 + int(clock.get("hours", 0)) * 60 + int(clock.get("minutes", 0))

    begin = minute(start.isoweekday(), {"hours": start.hour, "minutes": start.minute})
    length = int((end - start).total_seconds() // 60)
    for period in periods:
        opens_on = _DAYS.get(str(period.get("openDay")))
        if opens_on is None:
            continue
        closes_on = _DAYS.get(str(period.get("closeDay")))
        if closes_on is None:
            return True  # opens and never closes: around the clock
        opens = minute(opens_on, period.get("openTime") or {})
        closes = minute(closes_on, period.get("closeTime") or {})
        if closes <= opens:
            closes += _WEEK  # past the week's end (Sunday night into Monday)
        for at in (begin, begin + _WEEK):
            if opens <= at and at + length <= closes:
                return True
    return False


def _caters(place: dict[str, Any], diets: tuple[str, ...]) -> bool:
    offered = {str(d).lower() for d in place.get("dietaryOptions") or []}
    return set(diets) <= offered


def _step_free(place: dict[str, Any]) -> bool:
    return bool((place.get("accessibility") or {}).get("wheelchairAccessibleEntrance"))


def _round_trip_fits(offer: dict[str, Any], zone: str, first: date, last: date) -> bool:
    """Both ways, each with local times; on the destination's clock the way there leaves
    and lands on the first day and the way back leaves on the last (so each flight sits in
    its day), at least 4 h after landing."""
    legs = offer.get("slices") or []
    if len(legs) != 2 or not all(leg.get("segments") for leg in legs):
        return False
    departs = _in_zone(legs[0]["segments"][0].get("departureTime", ""), zone)
    landed = _in_zone(legs[0]["segments"][-1].get("arrivalTime", ""), zone)
    leaves = _in_zone(legs[1]["segments"][0].get("departureTime", ""), zone)
    if departs is None or landed is None or leaves is None:
        return False
    on_time = departs.date() == landed.date() == first and leaves.date() == last
    return on_time and leaves >= landed + timedelta(hours=4)


def _sandbox(answer: dict[str, Any]) -> bool:
    source = answer.get("source") or {}
    return isinstance(source, dict) and source.get("dataSource") == "DATA_SOURCE_SANDBOX"


def _day_title(index: int, count: int, city: str) -> str:
    if index == 0:
        return f"Arrival in {city}"
    if index == count - 1 and count > 1:
        return f"Last day in {city}"
    return f"{city}, day {index + 1}"


def _summary(request: TravelRequest, city: str, days: int, party: int) -> str:
    who = f"{party} traveller{'s' if party > 1 else ''}"
    likes = f", for {' and '.join(request.interests)}" if request.interests else ""
    pace = f", at a {request.pace} pace" if request.pace else ""
    return f"{days} days in {city} for {who}{likes}{pace}."
