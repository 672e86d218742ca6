"""Publishing a trip: who may change visibility, and what a public reader sees (issue 8 #12)."""

from __future__ import annotations

import httpx
import pytest
import pytest_asyncio

from tests.support.accounts import Account
from tests.support.suite import RunningSuite
from tests.support.trips import Cast
from tripsage.trips.v1 import trip_service_pb2 as pb
from tripsage.trips.v1 import trip_service_pb2_grpc as pb_grpc

pytestmark = pytest.mark.database

PRIVATE_BITS = ("PNR-ABC123", "off_0000secret", "door code 4711", "snapshot-secret")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def cast(suite: RunningSuite) -> Cast:
    return await Cast.register(suite)


async def _items(trips: pb_grpc.TripServiceAsyncStub, trip: pb.Trip, owner: Account) -> None:
    flight = pb.ItineraryItem(
        kind=pb.ITINERARY_ITEM_KIND_FLIGHT, title="TP 1350", time_zone="UTC",
        description="seat 3A; door code 4711", booking_status=pb.BOOKING_STATUS_BOOKED,
        booking_reference="PNR-ABC123", provider="duffel", offer_id="off_0000secret",
    )  # fmt: skip
    flight.start_time.FromJsonString("2027-05-01T09:00:00Z")
    flight.offer_snapshot.update({"note": "snapshot-secret"})
    note = pb.ItineraryItem(kind=pb.ITINERARY_ITEM_KIND_NOTE, title="door code 4711")
    for item in (flight, note):
        await trips.CreateItineraryItem(
            pb.CreateItineraryItemRequest(trip_id=trip.id, item=item), metadata=owner.metadata
        )


def _publish(trip_id: str) -> tuple[str, dict[str, str], dict[str, str]]:
    return (f"/api/v1/trips/{trip_id}", {"updateMask": "visibility"},
            {"visibility": "TRIP_VISIBILITY_PUBLIC"})  # fmt: skip


async def test_an_editor_cannot_publish_but_an_admin_can(
    trips: pb_grpc.TripServiceAsyncStub,
    http: httpx.AsyncClient,
    cast: Cast,
) -> None:
    trip = await cast.shared_trip(trips, preferences={"diet": "vegetarian"})
    path, params, body = _publish(trip.id)
    denied = await http.patch(path, params=params, json=body, headers=cast.edit.headers)
    assert denied.status_code == 403, denied.text
    assert "visibility" in denied.text
    # An editor may still change the trip, and sending the current visibility is no change.
    edited = await http.patch(
        path, params={"updateMask": "title,visibility"},
        json={"title": "Edited", "visibility": "TRIP_VISIBILITY_PRIVATE"},
        headers=cast.edit.headers,
    )  # fmt: skip
    assert edited.status_code == 200, edited.text
    assert (await http.get(path, headers=cast.stranger.headers)).status_code == 404
    published = await http.patch(path, params=params, json=body, headers=cast.admin.headers)
    assert published.status_code == 200, published.text
    assert published.json()["trip"]["visibility"] == "TRIP_VISIBILITY_PUBLIC"
    assert (await http.get(path, headers=cast.stranger.headers)).status_code == 200


async def test_a_stranger_reading_a_public_trip_sees_no_private_fields(
    trips: pb_grpc.TripServiceAsyncStub,
    http: httpx.AsyncClient,
    cast: Cast,
) -> None:
    trip = await cast.shared_trip(trips, preferences={"diet": "vegetarian"})
    await _items(trips, trip, cast.owner)
    path, params, body = _publish(trip.id)
    assert (await http.patch(path, params=params, json=body, headers=cast.owner.headers)).is_success
    seen = await http.get(path, headers=cast.stranger.headers)
    assert seen.status_code == 200, seen.text
    assert not seen.json()["trip"].get("preferences")
    items = await http.get(f"{path}/items", headers=cast.stranger.headers)
    assert items.status_code == 200, items.text
    listed = items.json()["items"]
    assert [i["title"] for i in listed] == ["TP 1350"]  # the note is not shown
    flight = listed[0]
    assert flight["bookingStatus"] == "BOOKING_STATUS_BOOKED"
    one = await http.get(f"{path}/items/{flight['id']}", headers=cast.stranger.headers)
    exported = await http.post(f"{path}:export", headers=cast.stranger.headers,
                               json={"format": "EXPORT_FORMAT_JSON"})  # fmt: skip
    calendar = await http.post(f"{path}:export", headers=cast.stranger.headers,
                               json={"format": "EXPORT_FORMAT_ICAL"})  # fmt: skip
    copied = await http.post(f"{path}:duplicate", headers=cast.stranger.headers,
                             json={"includeItems": True})  # fmt: skip
    copy_id = copied.json()["trip"]["id"]
    copy_items = await http.get(f"/api/v1/trips/{copy_id}/items", headers=cast.stranger.headers)
    texts = [items.text, one.text, copy_items.text, copied.text,
             exported.text, calendar.text]  # fmt: skip
    assert exported.status_code == calendar.status_code == 200, calendar.text
    assert calendar.headers["content-type"].startswith("text/calendar")
    for text, bit in [(t, b) for t in texts for b in PRIVATE_BITS]:
        assert bit not in text
    assert "vegetarian" not in copied.text
    for who in ("collaborators", "activity"):
        hidden = await http.get(f"{path}/{who}", headers=cast.stranger.headers)
        assert hidden.status_code in (403, 404), hidden.text
    # Members still see everything.
    member = await http.get(f"{path}/items", headers=cast.view.headers)
    assert all(bit in member.text for bit in ("PNR-ABC123", "off_0000secret", "door code 4711"))
    assert "vegetarian" in (await http.get(path, headers=cast.view.headers)).text
