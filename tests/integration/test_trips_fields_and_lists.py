"""Trip fields and their validation, list filters and order, field masks, idempotent
creates, duplication and public trips, over gRPC and through the gateway."""

from __future__ import annotations

import asyncio

import grpc
import httpx
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from tests.support.accounts import Account, register
from tests.support.suite import RunningSuite
from tests.support.trips import code_of, create_trip
from tripsage.trips.v1 import trip_service_pb2 as pb
from tripsage.trips.v1 import trip_service_pb2_grpc as pb_grpc

pytestmark = pytest.mark.database


@pytest.fixture
async def ana(suite: RunningSuite) -> Account:
    return await register(suite.address("auth"), "ana")


def _violations(error: grpc.aio.AioRpcError) -> set[str]:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None
    fields: set[str] = set()
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            fields |= {v.field for v in bad.field_violations}
    return fields


async def test_each_bad_field_is_named(
    trips: pb_grpc.TripServiceAsyncStub, http: httpx.AsyncClient, ana: Account
) -> None:
    trip = pb.Trip(
        title="x" * 201,
        description="y" * 5001,
        start_date="2027-05-01",
        end_date="2027-05-10",
        destinations=[
            pb.Destination(name="Lisbon", country_code="XX", arrival_date="2027-04-30"),
            pb.Destination(name="Porto", departure_date="2027-05-11"),
        ],
        budget={"currency_code": "ABC", "units": 10},
        tags=[""],
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await trips.CreateTrip(pb.CreateTripRequest(trip=trip), metadata=ana.metadata)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert _violations(caught.value) == {
        "title", "description", "destinations[0].country_code", "destinations[0].arrival_date",
        "destinations[1].departure_date", "budget.currency_code", "tags[0]",
    }  # fmt: skip
    reply = await http.post(
        "/api/v1/trips",
        headers=ana.headers,
        json={"title": "Ok", "budget": {"currencyCode": "EUR", "units": "-1"},
              "travelers": {"adults": -1}},
    )  # fmt: skip
    assert reply.status_code == 400
    bad = next(d for d in reply.json()["error"]["details"] if d["@type"].endswith("BadRequest"))
    assert {v["field"] for v in bad["fieldViolations"]} == {"budget", "travelers.adults"}


async def test_filters_text_dates_status_and_order(
    trips: pb_grpc.TripServiceAsyncStub,
    http: httpx.AsyncClient,
    suite: RunningSuite,
) -> None:
    me = await register(suite.address("auth"), "lister")
    lisbon = await create_trip(
        trips, me, title="Spring break", start_date="2027-04-01", end_date="2027-04-05",
        destinations=[pb.Destination(name="Lisbon", country_code="PT")],
    )  # fmt: skip
    tokyo = await create_trip(
        trips, me, title="Japan", description="Cherry blossoms", start_date="2027-03-20",
        end_date="2027-03-30", status=pb.TRIP_STATUS_BOOKED,
    )  # fmt: skip
    someday = await create_trip(trips, me, title="Someday", start_date="", end_date="")

    async def titles(**query: object) -> list[str]:
        reply = await trips.ListTrips(pb.ListTripsRequest(**query), metadata=me.metadata)  # type: ignore[arg-type]
        return [t.title for t in reply.trips]

    assert await titles(query="lisbon") == ["Spring break"]  # a destination's name
    assert await titles(query="BLOSSOM") == ["Japan"]  # the description
    assert await titles(status=pb.TRIP_STATUS_BOOKED) == ["Japan"]
    assert await titles(start_date_from="2027-03-25") == ["Spring break"]
    assert await titles(start_date_to="2027-03-25") == ["Japan"]
    assert await titles(order_by=pb.LIST_TRIPS_ORDER_START_DATE) == [
        "Japan", "Spring break", "Someday",
    ]  # fmt: skip
    # Default and UPDATE_TIME: most recently changed first.
    await trips.UpdateTrip(
        pb.UpdateTripRequest(trip=pb.Trip(id=lisbon.id, description="Pastéis"),
                             update_mask={"paths": ["description"]}),
        metadata=me.metadata,
    )  # fmt: skip
    assert await titles() == ["Spring break", "Someday", "Japan"]
    assert await titles(order_by=pb.LIST_TRIPS_ORDER_UPDATE_TIME) == [
        "Spring break", "Someday", "Japan",
    ]  # fmt: skip
    bad = trips.ListTrips(pb.ListTripsRequest(start_date_from="soon"), metadata=me.metadata)
    assert await code_of(bad) == grpc.StatusCode.INVALID_ARGUMENT
    # The same filters as query parameters through the gateway, a page at a time.
    reply = await http.get(
        "/api/v1/trips",
        headers=me.headers,
        params={"orderBy": "LIST_TRIPS_ORDER_START_DATE", "pageSize": 1,
                "startDateFrom": "2027-01-01"},
    )  # fmt: skip
    assert reply.status_code == 200, reply.text
    first = reply.json()
    assert [t["id"] for t in first["trips"]] == [tokyo.id]
    second = await http.get(
        "/api/v1/trips",
        headers=me.headers,
        params={"orderBy": "LIST_TRIPS_ORDER_START_DATE", "pageSize": 1,
                "startDateFrom": "2027-01-01", "pageToken": first["nextPageToken"]},
    )  # fmt: skip
    assert [t["id"] for t in second.json()["trips"]] == [lisbon.id]
    assert "nextPageToken" not in second.json() or not second.json()["nextPageToken"]
    assert someday.id not in {t["id"] for t in second.json()["trips"]}
    text = await http.get("/api/v1/trips", headers=me.headers, params={"query": "blossom"})
    assert [t["title"] for t in text.json()["trips"]] == ["Japan"]


async def test_field_masks_change_only_their_fields_and_stale_etags_conflict(
    trips: pb_grpc.TripServiceAsyncStub,
    http: httpx.AsyncClient,
    ana: Account,
) -> None:
    trip = await create_trip(trips, ana, description="keep me", tags=["food"])
    reply = await http.patch(
        f"/api/v1/trips/{trip.id}",
        params={"updateMask": "title,travelers"},
        headers=ana.headers,
        json={"title": "Renamed", "description": "ignored", "travelers": {"adults": 2,
              "children": 2}, "etag": trip.etag},
    )  # fmt: skip
    assert reply.status_code == 200, reply.text
    updated = reply.json()["trip"]
    assert updated["title"] == "Renamed"
    assert updated["description"] == "keep me"
    assert updated["travelers"] == {"adults": 2, "children": 2}
    assert updated["tags"] == ["food"]
    stale = await http.patch(
        f"/api/v1/trips/{trip.id}",
        params={"updateMask": "title"},
        headers=ana.headers,
        json={"title": "Lost update", "etag": trip.etag},
    )
    assert stale.status_code == 409
    assert stale.json()["error"]["status"] == "ABORTED"
    unknown = await http.patch(
        f"/api/v1/trips/{trip.id}",
        params={"updateMask": "owner_id"},
        headers=ana.headers,
        json={"ownerId": ana.id},
    )
    assert unknown.status_code == 400
    stale_delete = await http.delete(
        f"/api/v1/trips/{trip.id}", params={"etag": trip.etag}, headers=ana.headers
    )
    assert stale_delete.status_code == 409
    deleted = await http.delete(
        f"/api/v1/trips/{trip.id}", params={"etag": updated["etag"]}, headers=ana.headers
    )
    assert deleted.status_code == 200, deleted.text


async def test_a_retried_create_returns_the_first_trip_and_stores_one(
    trips: pb_grpc.TripServiceAsyncStub,
    http: httpx.AsyncClient,
    suite: RunningSuite,
) -> None:
    me = await register(suite.address("auth"), "retrier")
    request = pb.CreateTripRequest(trip=pb.Trip(title="Once"))
    keyed = (*me.metadata, ("idempotency-key", "create-once-1"))
    first = (await trips.CreateTrip(request, metadata=keyed)).trip
    again = (await trips.CreateTrip(request, metadata=keyed)).trip
    assert again.id == first.id
    # Concurrent retries wait for the first attempt and return its trip.
    racing = (*me.metadata, ("idempotency-key", "create-race"))
    replies = await asyncio.gather(*(trips.CreateTrip(request, metadata=racing) for _ in range(5)))
    assert len({r.trip.id for r in replies}) == 1
    # The same key with another body is a client bug, not a replay.
    other = trips.CreateTrip(pb.CreateTripRequest(trip=pb.Trip(title="Twice")), metadata=keyed)
    assert await code_of(other) == grpc.StatusCode.FAILED_PRECONDITION
    headers = {**me.headers, "idempotency-key": "create-once-http"}
    one = await http.post("/api/v1/trips", headers=headers, json={"title": "Via HTTP"})
    two = await http.post("/api/v1/trips", headers=headers, json={"title": "Via HTTP"})
    assert (one.status_code, two.status_code) == (201, 200), two.text
    assert one.json()["trip"]["id"] == two.json()["trip"]["id"]
    listed = await trips.ListTrips(pb.ListTripsRequest(), metadata=me.metadata)
    assert sorted(t.title for t in listed.trips) == ["Once", "Once", "Via HTTP"]
    too_long = trips.CreateTrip(request, metadata=(*me.metadata, ("idempotency-key", "k" * 300)))
    assert await code_of(too_long) == grpc.StatusCode.INVALID_ARGUMENT
    # Keys are per caller: someone else's identical key creates their own trip.
    ben = await register(suite.address("auth"), "ben")
    theirs = (
        await trips.CreateTrip(
            request, metadata=(*ben.metadata, ("idempotency-key", "create-once-1"))
        )
    ).trip
    assert theirs.id != first.id


async def test_duplicate_copies_with_shifted_dates_and_items_as_ideas(
    trips: pb_grpc.TripServiceAsyncStub,
    http: httpx.AsyncClient,
    ana: Account,
) -> None:
    trip = await create_trip(
        trips, ana, start_date="2027-05-01", end_date="2027-05-04",
        destinations=[pb.Destination(name="Lisbon", arrival_date="2027-05-01",
                                     departure_date="2027-05-04")],
    )  # fmt: skip
    item = pb.ItineraryItem(
        kind=pb.ITINERARY_ITEM_KIND_ACTIVITY, title="Tram 28", time_zone="Europe/Lisbon",
        booking_status=pb.BOOKING_STATUS_BOOKED, booking_reference="XYZ",
    )  # fmt: skip
    item.start_time.FromJsonString("2027-05-02T09:00:00Z")
    await trips.CreateItineraryItem(
        pb.CreateItineraryItemRequest(trip_id=trip.id, item=item), metadata=ana.metadata
    )
    reply = await http.post(
        f"/api/v1/trips/{trip.id}:duplicate",
        headers=ana.headers,
        json={"startDate": "2027-10-01", "includeItems": True},
    )
    assert reply.status_code == 200, reply.text
    copy = reply.json()["trip"]
    assert copy["title"] == "Copy of Lisbon"
    assert (copy["startDate"], copy["endDate"]) == ("2027-10-01", "2027-10-04")
    assert copy["destinations"][0]["departureDate"] == "2027-10-04"
    items = (
        await trips.ListItineraryItems(
            pb.ListItineraryItemsRequest(trip_id=copy["id"]), metadata=ana.metadata
        )
    ).items
    assert [(i.title, i.day, i.booking_status, i.booking_reference) for i in items] == [
        ("Tram 28", "2027-10-02", pb.BOOKING_STATUS_IDEA, "")
    ]
    # Deleting the original takes its items with it; the copy stays.
    await trips.DeleteTrip(pb.DeleteTripRequest(trip_id=trip.id), metadata=ana.metadata)
    gone = trips.ListItineraryItems(
        pb.ListItineraryItemsRequest(trip_id=trip.id), metadata=ana.metadata
    )
    assert await code_of(gone) == grpc.StatusCode.NOT_FOUND
    assert (
        await trips.GetTrip(pb.GetTripRequest(trip_id=copy["id"]), metadata=ana.metadata)
    ).trip.id == copy["id"]


async def test_public_trips_are_readable_but_not_listed_or_writable(
    trips: pb_grpc.TripServiceAsyncStub,
    ana: Account,
    suite: RunningSuite,
) -> None:
    trip = await create_trip(trips, ana, visibility=pb.TRIP_VISIBILITY_PUBLIC)
    reader = await register(suite.address("auth"), "reader")
    seen = (await trips.GetTrip(pb.GetTripRequest(trip_id=trip.id), metadata=reader.metadata)).trip
    assert seen.caller_access == pb.TRIP_ACCESS_VIEW
    listed = await trips.ListTrips(pb.ListTripsRequest(), metadata=reader.metadata)
    assert list(listed.trips) == []
    change = trips.UpdateTrip(
        pb.UpdateTripRequest(
            trip=pb.Trip(id=trip.id, title="mine"), update_mask={"paths": ["title"]}
        ),
        metadata=reader.metadata,
    )
    assert await code_of(change) == grpc.StatusCode.PERMISSION_DENIED
    people = trips.ListCollaborators(
        pb.ListCollaboratorsRequest(trip_id=trip.id), metadata=reader.metadata
    )
    assert await code_of(people) == grpc.StatusCode.PERMISSION_DENIED
