"""Itinerary items, conflicts, the summary, exports and the activity log, for real."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import grpc
import httpx
import pytest
from google.protobuf import struct_pb2
from icalendar import Calendar

from tests.support.accounts import Account, register
from tests.support.suite import RunningSuite
from tests.support.trips import code_of, create_trip
from tripsage.trips.v1 import trip_service_pb2 as pb
from tripsage.trips.v1 import trip_service_pb2_grpc as pb_grpc

pytestmark = pytest.mark.database


@pytest.fixture
async def ana(suite: RunningSuite) -> Account:
    return await register(suite.address("auth"), "ana")


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _item(
    kind: int, title: str, start: str = "", end: str = "", **fields: object
) -> pb.ItineraryItem:
    item = pb.ItineraryItem(kind=kind, title=title, time_zone="Europe/Lisbon", **fields)  # type: ignore[arg-type]
    if start:
        item.start_time.FromDatetime(_utc(start))
    if end:
        item.end_time.FromDatetime(_utc(end))
    return item


async def _add(
    trips: pb_grpc.TripServiceAsyncStub, owner: Account, trip_id: str, item: pb.ItineraryItem
) -> pb.ItineraryItem:
    reply = await trips.CreateItineraryItem(
        pb.CreateItineraryItemRequest(trip_id=trip_id, item=item), metadata=owner.metadata
    )
    return reply.item


async def test_items_by_day_reorder_update_and_delete(
    trips: pb_grpc.TripServiceAsyncStub, ana: Account
) -> None:
    trip = await create_trip(trips, ana)
    # 23:30 UTC on 1 May is 00:30 on 2 May in Lisbon: the day is the local one.
    late = await _add(trips, ana, trip.id, _item(pb.ITINERARY_ITEM_KIND_MEAL, "Late dinner",
                                                 "2027-05-01T23:30:00"))  # fmt: skip
    assert late.day == "2027-05-02"
    museum = await _add(
        trips,
        ana,
        trip.id,
        _item(
            pb.ITINERARY_ITEM_KIND_ACTIVITY, "Museum", "2027-05-02T09:00:00", "2027-05-02T11:00:00"
        ),
    )
    idea = await _add(trips, ana, trip.id, _item(pb.ITINERARY_ITEM_KIND_NOTE, "Pastéis?"))
    assert idea.day == ""
    assert idea.booking_status == pb.BOOKING_STATUS_IDEA
    assert (late.position, museum.position) == (0, 1)
    listed = await trips.ListItineraryItems(
        pb.ListItineraryItemsRequest(trip_id=trip.id), metadata=ana.metadata
    )
    assert [i.id for i in listed.items] == [late.id, museum.id, idea.id]  # undated last
    page = await trips.ListItineraryItems(
        pb.ListItineraryItemsRequest(trip_id=trip.id, page_size=2), metadata=ana.metadata
    )
    rest = await trips.ListItineraryItems(
        pb.ListItineraryItemsRequest(trip_id=trip.id, page_token=page.next_page_token),
        metadata=ana.metadata,
    )
    assert [i.id for i in [*page.items, *rest.items]] == [late.id, museum.id, idea.id]
    day = await trips.ListItineraryItems(
        pb.ListItineraryItemsRequest(trip_id=trip.id, day="2027-05-02"), metadata=ana.metadata
    )
    assert len(day.items) == 2
    reordered = await trips.ReorderItineraryItems(
        pb.ReorderItineraryItemsRequest(trip_id=trip.id, day="2027-05-02",
                                        item_ids=[museum.id, late.id]),
        metadata=ana.metadata,
    )  # fmt: skip
    assert [(i.id, i.position) for i in reordered.items] == [(museum.id, 0), (late.id, 1)]
    incomplete = trips.ReorderItineraryItems(
        pb.ReorderItineraryItemsRequest(trip_id=trip.id, day="2027-05-02", item_ids=[museum.id]),
        metadata=ana.metadata,
    )
    assert await code_of(incomplete) == grpc.StatusCode.INVALID_ARGUMENT
    fresh = (
        await trips.GetItineraryItem(
            pb.GetItineraryItemRequest(trip_id=trip.id, item_id=museum.id), metadata=ana.metadata
        )
    ).item
    changed = (
        await trips.UpdateItineraryItem(
            pb.UpdateItineraryItemRequest(
                item=pb.ItineraryItem(id=museum.id, trip_id=trip.id, title="Tile museum",
                                      booking_status=pb.BOOKING_STATUS_BOOKED, etag=fresh.etag),
                update_mask={"paths": ["title", "booking_status"]},
            ),
            metadata=ana.metadata,
        )
    ).item  # fmt: skip
    assert (changed.title, changed.booking_status) == ("Tile museum", pb.BOOKING_STATUS_BOOKED)
    assert changed.start_time == museum.start_time
    stale = trips.UpdateItineraryItem(
        pb.UpdateItineraryItemRequest(
            item=pb.ItineraryItem(id=museum.id, trip_id=trip.id, title="x", etag=fresh.etag),
            update_mask={"paths": ["title"]},
        ),
        metadata=ana.metadata,
    )
    assert await code_of(stale) == grpc.StatusCode.ABORTED
    await trips.DeleteItineraryItem(
        pb.DeleteItineraryItemRequest(trip_id=trip.id, item_id=idea.id), metadata=ana.metadata
    )
    gone = trips.GetItineraryItem(
        pb.GetItineraryItemRequest(trip_id=trip.id, item_id=idea.id), metadata=ana.metadata
    )
    assert await code_of(gone) == grpc.StatusCode.NOT_FOUND
    kinds = [
        a.kind
        for a in (
            await trips.ListTripActivity(
                pb.ListTripActivityRequest(trip_id=trip.id), metadata=ana.metadata
            )
        ).activities
    ]
    assert kinds == [
        pb.TRIP_ACTIVITY_KIND_ITEM_REMOVED,
        pb.TRIP_ACTIVITY_KIND_ITEM_UPDATED,
        pb.TRIP_ACTIVITY_KIND_ITEMS_REORDERED,
        pb.TRIP_ACTIVITY_KIND_ITEM_ADDED,
        pb.TRIP_ACTIVITY_KIND_ITEM_ADDED,
        pb.TRIP_ACTIVITY_KIND_ITEM_ADDED,
        pb.TRIP_ACTIVITY_KIND_TRIP_CREATED,
    ]


async def test_bad_items_get_field_violations(
    http: httpx.AsyncClient, trips: pb_grpc.TripServiceAsyncStub, ana: Account
) -> None:
    trip = await create_trip(trips, ana)
    reply = await http.post(
        f"/api/v1/trips/{trip.id}/items",
        headers=ana.headers,
        json={
            "title": "",
            "startTime": "2027-05-02T12:00:00Z",
            "endTime": "2027-05-02T10:00:00Z",
            "timeZone": "Mars/Olympus",
            "cost": {"currencyCode": "ABC", "units": "-3"},
        },
    )
    assert reply.status_code == 400, reply.text
    bad = next(d for d in reply.json()["error"]["details"] if d["@type"].endswith("BadRequest"))
    assert {v["field"] for v in bad["fieldViolations"]} >= {
        "kind", "title", "end_time", "time_zone", "cost.currency_code", "cost",
    }  # fmt: skip


async def test_a_saved_offer_is_kept_as_it_was_and_summed_in_the_budget(
    trips: pb_grpc.TripServiceAsyncStub,
    http: httpx.AsyncClient,
    ana: Account,
) -> None:
    trip = await create_trip(trips, ana, end_date="2027-05-03")
    await trips.UpdateTrip(
        pb.UpdateTripRequest(
            trip=pb.Trip(id=trip.id, budget={"currency_code": "EUR", "units": 1000}),
            update_mask={"paths": ["budget"]},
        ),
        metadata=ana.metadata,
    )
    offer = struct_pb2.Struct()
    offer.update({"id": "off_123", "total_amount": "320.50", "total_currency": "USD",
                  "slices": [{"origin": "LHR", "destination": "LIS"}]})  # fmt: skip
    flight = _item(pb.ITINERARY_ITEM_KIND_FLIGHT, "LHR → LIS", "2027-05-01T07:00:00",
                   "2027-05-01T09:40:00", provider="duffel", offer_id="off_123",
                   booking_status=pb.BOOKING_STATUS_SAVED)  # fmt: skip
    flight.offer_snapshot.CopyFrom(offer)
    flight.cost.currency_code, flight.cost.units = "USD", 320
    saved = await _add(trips, ana, trip.id, flight)
    assert saved.offer_snapshot == offer
    assert saved.offer_id == "off_123"
    hotel = _item(pb.ITINERARY_ITEM_KIND_ACCOMMODATION, "Casa", "2027-05-01T14:00:00",
                  "2027-05-02T10:00:00", booking_status=pb.BOOKING_STATUS_BOOKED)  # fmt: skip
    hotel.cost.currency_code, hotel.cost.units = "EUR", 400
    await _add(trips, ana, trip.id, hotel)
    lunch = _item(pb.ITINERARY_ITEM_KIND_MEAL, "Lunch", "2027-05-01T08:30:00",
                  "2027-05-01T10:00:00")  # fmt: skip
    await _add(trips, ana, trip.id, lunch)  # overlaps the flight
    summary = (
        await trips.GetTripSummary(pb.GetTripSummaryRequest(trip_id=trip.id), metadata=ana.metadata)
    ).summary
    assert summary.day_count == 3
    assert summary.traveler_count == 1
    # 320 USD at the built-in 0.92 EUR = 294.40 EUR; plus the 400 EUR stay.
    assert (summary.planned_spend.units, summary.planned_spend.nanos) == (694, 400_000_000)
    assert summary.booked_spend.units == 400
    assert summary.remaining_budget.units == 305
    assert summary.converted_item_count == 1
    assert [(r.from_currency, r.to_currency, r.source) for r in summary.exchange_rates] == [
        ("USD", "EUR", "built-in reference table")
    ]
    assert summary.item_count == 3
    assert summary.booked_item_count == 1
    conflicts = {c.kind: c for c in summary.conflicts}
    assert set(conflicts) == {pb.CONFLICT_KIND_OVERLAP, pb.CONFLICT_KIND_MISSING_ACCOMMODATION}
    assert conflicts[pb.CONFLICT_KIND_MISSING_ACCOMMODATION].day == "2027-05-02"
    over_http = await http.get(f"/api/v1/trips/{trip.id}/summary", headers=ana.headers)
    assert over_http.status_code == 200, over_http.text
    body = over_http.json()["summary"]
    assert body["plannedSpend"] == {"currencyCode": "EUR", "units": "694", "nanos": 400000000}
    assert body["exchangeRates"][0]["fromCurrency"] == "USD"
    spend = {c["kind"]: c for c in body["spendByCategory"]}
    assert spend["ITINERARY_ITEM_KIND_ACCOMMODATION"]["bookedAmount"]["units"] == "400"


async def test_exports_parse_back_as_calendar_and_json(
    trips: pb_grpc.TripServiceAsyncStub,
    http: httpx.AsyncClient,
    ana: Account,
) -> None:
    trip = await create_trip(trips, ana, title="Lisbon Spring")
    await _add(
        trips,
        ana,
        trip.id,
        _item(
            pb.ITINERARY_ITEM_KIND_ACTIVITY, "Belém", "2027-05-02T09:00:00", "2027-05-02T12:00:00"
        ),
    )
    tokyo = _item(pb.ITINERARY_ITEM_KIND_MEAL, "Sushi", "2027-05-03T10:00:00",
                  "2027-05-03T11:00:00")  # fmt: skip
    tokyo.time_zone = "Asia/Tokyo"
    await _add(trips, ana, trip.id, tokyo)
    await _add(trips, ana, trip.id, _item(pb.ITINERARY_ITEM_KIND_NOTE, "Undated idea"))
    reply = await http.post(
        f"/api/v1/trips/{trip.id}:export",
        headers=ana.headers,
        json={"format": "EXPORT_FORMAT_ICAL"},
    )
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("text/calendar")
    assert reply.headers["content-disposition"] == 'attachment; filename="Lisbon Spring.ics"'
    calendar = Calendar.from_ical(reply.content)
    events = {str(e["summary"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {"Belém", "Sushi"}
    belem = events["Belém"].decoded("dtstart")
    assert (str(belem.tzinfo), belem.hour) == ("Europe/Lisbon", 10)  # 09:00 UTC in summer
    sushi = events["Sushi"].decoded("dtstart")
    assert (str(sushi.tzinfo), sushi.hour) == ("Asia/Tokyo", 19)
    assert sushi == _utc("2027-05-03T10:00:00")
    assert {str(z["tzid"]) for z in calendar.walk("VTIMEZONE")} == {"Europe/Lisbon", "Asia/Tokyo"}
    as_json = await trips.ExportTrip(
        pb.ExportTripRequest(trip_id=trip.id, format=pb.EXPORT_FORMAT_JSON), metadata=ana.metadata
    )
    assert as_json.content_type == "application/json"
    exported = json.loads(as_json.data)
    assert exported["trip"]["title"] == "Lisbon Spring"
    assert [i["title"] for i in exported["items"]] == ["Belém", "Sushi", "Undated idea"]
    assert exported["items"][0]["kind"] == "ITINERARY_ITEM_KIND_ACTIVITY"
    log = await http.get(f"/api/v1/trips/{trip.id}/activity", headers=ana.headers,
                         params={"pageSize": 2})  # fmt: skip
    assert log.status_code == 200, log.text
    entries = log.json()["activities"]
    assert [e["kind"] for e in entries] == ["TRIP_ACTIVITY_KIND_ITEM_ADDED"] * 2
    assert entries[0]["actorId"] == ana.id
    assert entries[0]["details"]["kind"] == "note"
    rest = await http.get(f"/api/v1/trips/{trip.id}/activity", headers=ana.headers,
                          params={"pageToken": log.json()["nextPageToken"]})  # fmt: skip
    assert [e["kind"] for e in rest.json()["activities"]] == [
        "TRIP_ACTIVITY_KIND_ITEM_ADDED", "TRIP_ACTIVITY_KIND_TRIP_CREATED",
    ]  # fmt: skip


async def test_items_outside_the_trip_are_reported_and_updates_move_days(
    trips: pb_grpc.TripServiceAsyncStub, ana: Account
) -> None:
    trip = await create_trip(trips, ana, start_date="2027-05-01", end_date="2027-05-01")
    early = await _add(
        trips,
        ana,
        trip.id,
        _item(
            pb.ITINERARY_ITEM_KIND_ACTIVITY,
            "Too early",
            "2027-04-29T10:00:00",
            "2027-04-29T11:00:00",
        ),
    )
    summary = (
        await trips.GetTripSummary(pb.GetTripSummaryRequest(trip_id=trip.id), metadata=ana.metadata)
    ).summary
    assert [(c.kind, list(c.item_ids)) for c in summary.conflicts] == [
        (pb.CONFLICT_KIND_OUTSIDE_TRIP_DATES, [early.id])
    ]
    moved = pb.ItineraryItem(id=early.id, trip_id=trip.id)
    moved.start_time.FromDatetime(_utc("2027-05-01T10:00:00"))
    moved.end_time.FromDatetime(_utc("2027-05-01T11:00:00"))
    updated = (
        await trips.UpdateItineraryItem(
            pb.UpdateItineraryItemRequest(
                item=moved, update_mask={"paths": ["start_time", "end_time"]}
            ),
            metadata=ana.metadata,
        )
    ).item
    assert updated.day == "2027-05-01"
    summary = (
        await trips.GetTripSummary(pb.GetTripSummaryRequest(trip_id=trip.id), metadata=ana.metadata)
    ).summary
    assert list(summary.conflicts) == []


async def test_retried_item_creates_and_duplicates_store_one(
    trips: pb_grpc.TripServiceAsyncStub,
    http: httpx.AsyncClient,
    ana: Account,
) -> None:
    trip = await create_trip(trips, ana)
    headers = {**ana.headers, "idempotency-key": f"item-{trip.id}"}
    body = {"kind": "ITINERARY_ITEM_KIND_NOTE", "title": "Book the tram tour"}
    first = await http.post(f"/api/v1/trips/{trip.id}/items", headers=headers, json=body)
    again = await http.post(f"/api/v1/trips/{trip.id}/items", headers=headers, json=body)
    assert (first.status_code, again.status_code) == (201, 200), again.text
    assert first.json()["item"]["id"] == again.json()["item"]["id"]
    keyed = (*ana.metadata, ("idempotency-key", f"dup-{trip.id}"))
    request = pb.DuplicateTripRequest(trip_id=trip.id, include_items=True)
    copies = {(await trips.DuplicateTrip(request, metadata=keyed)).trip.id for _ in range(2)}
    assert len(copies) == 1
    items = await trips.ListItineraryItems(
        pb.ListItineraryItemsRequest(trip_id=trip.id), metadata=ana.metadata
    )
    assert [i.title for i in items.items] == ["Book the tram tour"]
