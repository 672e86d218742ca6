"""Itinerary item, summary and export messages <-> the domain."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from google.protobuf import json_format, struct_pb2
from google.type import latlng_pb2

from services.trips.convert import enum_to_word, trip_to_proto, word_to_enum
from services.trips.items import BookingStatus, ItemDraft, ItemLocation, ItineraryItem
from services.trips.model import Trip
from services.trips.planning import Summary
from tripsage.trips.v1 import trip_service_pb2 as pb
from tripsage_core.money import from_proto
from tripsage_core.money import to_proto as money_to_proto
from tripsage_core.proto_fields import message_from


def item_draft_from_proto(item: pb.ItineraryItem) -> ItemDraft:
    location = None
    if item.HasField("location"):
        located = item.location.HasField("lat_lng")
        location = ItemLocation(
            name=item.location.name,
            address=item.location.address,
            latitude=item.location.lat_lng.latitude if located else None,
            longitude=item.location.lat_lng.longitude if located else None,
            place_id=item.location.place_id,
        )
    cost = None
    if item.HasField("cost"):
        cost = from_proto(item.cost)
    return ItemDraft(
        kind=enum_to_word(pb.ItineraryItemKind, item.kind, "ITINERARY_ITEM_KIND_", ""),
        title=item.title,
        description=item.description,
        start_time=item.start_time.ToDatetime(tzinfo=UTC) if item.HasField("start_time") else None,
        end_time=item.end_time.ToDatetime(tzinfo=UTC) if item.HasField("end_time") else None,
        time_zone=item.time_zone.strip(),
        location=location,
        cost=cost,
        booking_status=enum_to_word(
            pb.BookingStatus, item.booking_status, "BOOKING_STATUS_", BookingStatus.IDEA
        ),
        booking_reference=item.booking_reference,
        provider=item.provider,
        offer_id=item.offer_id,
        offer_snapshot=json_format.MessageToDict(item.offer_snapshot)
        if item.HasField("offer_snapshot")
        else None,
    )


def snapshot_size(item: pb.ItineraryItem) -> int:
    return item.offer_snapshot.ByteSize() if item.HasField("offer_snapshot") else 0


def item_to_proto(item: ItineraryItem) -> pb.ItineraryItem:
    message = message_from(
        pb.ItineraryItem,
        item,
        kind=word_to_enum(pb.ItineraryItemKind, item.kind, "ITINERARY_ITEM_KIND_"),
        day=item.day.isoformat() if item.day else "",
        booking_status=word_to_enum(pb.BookingStatus, item.booking_status, "BOOKING_STATUS_"),
    )
    if item.location is not None:
        location = item.location
        message.location.CopyFrom(
            pb.ItemLocation(
                name=location.name, address=location.address, place_id=location.place_id
            )
        )
        if location.latitude is not None and location.longitude is not None:
            message.location.lat_lng.CopyFrom(
                latlng_pb2.LatLng(latitude=location.latitude, longitude=location.longitude)
            )
    if item.cost is not None:
        message.cost.CopyFrom(money_to_proto(item.cost))
    if item.offer_snapshot is not None:
        snapshot = struct_pb2.Struct()
        snapshot.update(item.offer_snapshot)
        message.offer_snapshot.CopyFrom(snapshot)
    return message


def summary_to_proto(summary: Summary) -> pb.TripSummary:
    message = message_from(
        pb.TripSummary,
        summary,
        travelers=pb.Travelers(adults=summary.adults, children=summary.children),
        traveler_count=summary.adults + summary.children,
        planned_spend=money_to_proto(summary.money(summary.planned_spend)),
        booked_spend=money_to_proto(summary.money(summary.booked_spend)),
        spend_by_category=[
            pb.CategorySpend(
                kind=word_to_enum(pb.ItineraryItemKind, spend.kind, "ITINERARY_ITEM_KIND_"),
                amount=money_to_proto(summary.money(spend.amount)),
                booked_amount=money_to_proto(summary.money(spend.booked_amount)),
                item_count=spend.item_count,
            )
            for spend in summary.spend_by_category
        ],
        days=[
            pb.DaySummary(
                date=day.day.isoformat(),
                item_count=day.item_count,
                cost=money_to_proto(summary.money(day.cost)),
            )
            for day in summary.days
        ],
        conflicts=[
            pb.ItineraryConflict(
                kind=word_to_enum(pb.ConflictKind, conflict.kind, "CONFLICT_KIND_"),
                item_ids=list(conflict.item_ids),
                day=conflict.day.isoformat() if conflict.day else "",
                message=conflict.message,
            )
            for conflict in summary.conflicts
        ],
        exchange_rates=[
            pb.ExchangeRate(
                from_currency=rate.from_currency,
                to_currency=rate.to_currency,
                rate=float(rate.rate),
                source=rate.source,
            )
            for rate in summary.rates
        ],
    )
    if summary.budget is not None:
        message.budget.CopyFrom(money_to_proto(summary.money(summary.budget)))
        message.remaining_budget.CopyFrom(
            money_to_proto(summary.money(summary.budget - summary.planned_spend))
        )
    return message


def render_json(trip: Trip, items: list[ItineraryItem]) -> bytes:
    """The trip and its items in the proto3 JSON mapping, as ExportTrip promises."""
    document = {
        "trip": json_format.MessageToDict(trip_to_proto(trip)),
        "items": [json_format.MessageToDict(item_to_proto(item)) for item in items],
        "exportTime": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
    }
    return json.dumps(document, ensure_ascii=False, indent=2).encode()
