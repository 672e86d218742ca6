"""What a reader of a public trip who is not on it may see. No transport here.

Publishing shows the plan, not the private details: a public reader gets the
trip without its preferences, and items without descriptions (private notes),
booking references or the provider's offer (id and snapshot). Note items are
left out in the database itself (items_select in migration 0004), and such a
reader sees no collaborators or activity at all (MEMBER-only RPCs, RLS).
"""

from __future__ import annotations

from dataclasses import replace

from services.trips.items import ItemDraft
from services.trips.model import Trip

PUBLIC = "public"


def trip_for_reader(trip: Trip) -> Trip:
    return replace(trip, preferences={}) if trip.access == PUBLIC else trip


def items_for_reader[I: ItemDraft](trip: Trip, items: list[I]) -> list[I]:
    if trip.access != PUBLIC:
        return items
    return [
        replace(item, description="", booking_reference="", offer_id="", offer_snapshot=None)
        for item in items
    ]
