"""What a trip's itinerary adds up to: conflicts and the budget summary. Pure functions."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from services.trips.items import BookingStatus, ItemKind, ItineraryItem
from services.trips.model import Money, Trip
from tripsage_core.money import Rate, RateTable

# Items that take the traveller's time; a stay runs alongside everything else.
_OCCUPYING = {ItemKind.FLIGHT, ItemKind.ACTIVITY, ItemKind.MEAL, ItemKind.TRANSPORT}


@dataclass(frozen=True)
class Conflict:
    kind: str  # overlap, outside_trip_dates, missing_accommodation, over_budget
    message: str
    item_ids: tuple[str, ...] = ()
    day: date | None = None


@dataclass
class CategorySpend:
    kind: str
    amount: Decimal = Decimal(0)
    booked_amount: Decimal = Decimal(0)
    item_count: int = 0


@dataclass
class DayFigures:
    day: date
    item_count: int = 0
    cost: Decimal = Decimal(0)


@dataclass
class Summary:
    trip_id: str
    currency: str
    day_count: int
    adults: int
    children: int
    budget: Decimal | None
    planned_spend: Decimal = Decimal(0)
    booked_spend: Decimal = Decimal(0)
    spend_by_category: list[CategorySpend] = field(default_factory=list)
    converted_item_count: int = 0
    unconverted_item_count: int = 0
    item_count: int = 0
    booked_item_count: int = 0
    collaborator_count: int = 0
    destination_count: int = 0
    days: list[DayFigures] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    rates: list[Rate] = field(default_factory=list)

    @property
    def over_budget(self) -> bool:
        return self.budget is not None and self.planned_spend > self.budget

    def money(self, amount: Decimal) -> Money:
        return Money.of(self.currency, amount)


def trip_days(trip: Trip) -> list[date]:
    if trip.start_date is None or trip.end_date is None:
        return []
    return [
        trip.start_date + timedelta(days=n)
        for n in range((trip.end_date - trip.start_date).days + 1)
    ]


def find_conflicts(trip: Trip, items: list[ItineraryItem]) -> list[Conflict]:
    """Overlapping timed items, items outside the trip's dates, nights without a stay."""
    live = [item for item in items if item.booking_status != BookingStatus.CANCELLED]
    found: list[Conflict] = []
    timed = sorted(
        (i for i in live if i.start_time and i.end_time and i.kind in _OCCUPYING),
        key=lambda i: (i.start_time, i.id),
    )
    stays = sorted(
        (i for i in live if i.start_time and i.end_time and i.kind == ItemKind.ACCOMMODATION),
        key=lambda i: (i.start_time, i.id),
    )
    for group in (timed, stays):
        for index, first in enumerate(group):
            for second in group[index + 1 :]:
                assert first.end_time is not None
                assert second.start_time is not None
                if second.start_time >= first.end_time:
                    break
                found.append(
                    Conflict(
                        "overlap",
                        f"{first.title!r} and {second.title!r} overlap",
                        (first.id, second.id),
                        first.day,
                    )
                )
    for item in live:
        first_day, last_day = item.day, item.last_day
        if first_day is None or last_day is None:
            continue
        if (trip.start_date and first_day < trip.start_date) or (
            trip.end_date and last_day > trip.end_date
        ):
            found.append(
                Conflict(
                    "outside_trip_dates",
                    f"{item.title!r} falls outside the trip's dates",
                    (item.id,),
                    first_day,
                )
            )
    nights = trip_days(trip)[:-1]  # the last day ends the trip; no bed needed
    covered: set[date] = set()
    for stay in live:
        if stay.kind != ItemKind.ACCOMMODATION or stay.day is None:
            continue
        check_out = stay.last_day if stay.last_day and stay.last_day > stay.day else None
        night = stay.day
        while True:
            covered.add(night)
            night += timedelta(days=1)
            if check_out is None or night >= check_out:
                break
    for night in nights:
        if night not in covered:
            found.append(
                Conflict(
                    "missing_accommodation",
                    f"no accommodation for the night of {night.isoformat()}",
                    (),
                    night,
                )
            )
    return found


def summarize(
    trip: Trip, items: list[ItineraryItem], *, collaborator_count: int, rates: RateTable
) -> Summary:
    currency = trip.budget.currency if trip.budget else _dominant_currency(items)
    summary = Summary(
        trip_id=trip.id,
        currency=currency,
        day_count=len(trip_days(trip)),
        adults=trip.adults,
        children=trip.children,
        budget=trip.budget.amount() if trip.budget else None,
        item_count=len(items),
        booked_item_count=sum(1 for i in items if i.booking_status == BookingStatus.BOOKED),
        collaborator_count=collaborator_count,
        destination_count=len(trip.destinations),
    )
    by_kind: dict[str, CategorySpend] = {kind: CategorySpend(kind) for kind in ItemKind}
    days = {day: DayFigures(day) for day in trip_days(trip)}
    used: dict[str, Rate] = {}
    for item in items:
        by_kind[item.kind].item_count += 1
        if item.day in days:
            days[item.day].item_count += 1
        if item.cost is None or item.booking_status == BookingStatus.CANCELLED:
            continue
        rate = rates.rate(item.cost.currency, currency)
        if rate is None:
            summary.unconverted_item_count += 1
            continue
        if item.cost.currency != currency:
            summary.converted_item_count += 1
            used[item.cost.currency] = rate
        amount = (item.cost.amount() * rate.rate).quantize(Decimal("0.01"))
        by_kind[item.kind].amount += amount
        summary.planned_spend += amount
        if item.booking_status == BookingStatus.BOOKED:
            by_kind[item.kind].booked_amount += amount
            summary.booked_spend += amount
        if item.day in days:
            days[item.day].cost += amount
    summary.spend_by_category = [spend for spend in by_kind.values() if spend.item_count]
    summary.days = list(days.values())
    summary.rates = [used[code] for code in sorted(used)]
    summary.conflicts = find_conflicts(trip, items)
    if summary.over_budget:
        summary.conflicts.append(
            Conflict(
                "over_budget",
                f"planned spend {summary.planned_spend} {currency} exceeds the budget "
                f"{summary.budget} {currency}",
            )
        )
    return summary


def _dominant_currency(items: list[ItineraryItem]) -> str:
    """Without a budget, sums are in the currency most item costs use (EUR if none)."""
    counts: dict[str, int] = defaultdict(int)
    for item in items:
        if item.cost is not None:
            counts[item.cost.currency] += 1
    return max(sorted(counts), key=lambda code: counts[code]) if counts else "EUR"
