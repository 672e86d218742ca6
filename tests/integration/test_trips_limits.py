"""Every trips field has a size limit, and no page of any list outgrows a gRPC message
(issue 8 #11)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import grpc
import httpx
import pytest
import pytest_asyncio

from services.trips import limits
from tests.support.accounts import Account, register, unique_email, verified
from tests.support.suite import RunningSuite
from tests.support.trips import share
from tripsage.trips.v1 import trip_service_pb2 as pb
from tripsage.trips.v1 import trip_service_pb2_grpc as pb_grpc

pytestmark = pytest.mark.database

WIDE = "🧳"  # four bytes in UTF-8, one character: the largest row the limits allow


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def owner(suite: RunningSuite) -> Account:
    return await register(suite.address("auth"), "owner")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def victim(suite: RunningSuite) -> Account:
    # Verified: the attack needs the victim to accept the invitations (consent).
    return await verified(suite, await register(suite.address("auth"), "victim"))


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def stub(suite: RunningSuite) -> AsyncIterator[pb_grpc.TripServiceStub]:
    # Default channel options: gRPC's 4 MiB receive limit, as any other service has.
    async with grpc.aio.insecure_channel(suite.address("trips")) as channel:
        yield pb_grpc.TripServiceStub(channel)


def _violations(reply: httpx.Response) -> set[str]:
    assert reply.status_code == 400, reply.text
    return {
        violation["field"]
        for detail in reply.json()["error"]["details"]
        for violation in detail.get("fieldViolations", [])
    }


async def test_megabytes_of_preferences_are_refused_naming_the_field(
    http: httpx.AsyncClient, owner: Account
) -> None:
    reply = await http.post(
        "/api/v1/trips", headers=owner.headers,
        json={"title": "Huge", "preferences": {"blob": "x" * 3_500_000}},
    )  # fmt: skip
    assert "preferences" in _violations(reply)
    at_limit = {"k": "x" * (limits.PREFERENCES_BYTES - 16)}
    kept = await http.post(
        "/api/v1/trips", headers=owner.headers, json={"title": "Fits", "preferences": at_limit}
    )
    assert kept.status_code == 201, kept.text


TRIP_FIELDS: dict[str, dict[str, Any]] = {
    "title": {"title": "x" * (limits.TITLE + 1)},
    "description": {"description": "x" * (limits.DESCRIPTION + 1)},
    "tags": {"tags": ["t"] * (limits.TAGS + 1)},
    "tags[0]": {"tags": ["x" * (limits.TAG + 1)]},
    "destinations": {"destinations": [{"name": "Porto"}] * (limits.DESTINATIONS + 1)},
    "destinations[0].name": {"destinations": [{"name": "x" * (limits.TITLE + 1)}]},
    "preferences": {"preferences": {"list": list(range(limits.PREFERENCES_BYTES))}},
}


@pytest.mark.parametrize("field", list(TRIP_FIELDS))
async def test_each_trip_field_over_its_limit_is_a_400_naming_it(
    http: httpx.AsyncClient, owner: Account, field: str
) -> None:
    body = {"title": "Limits", **TRIP_FIELDS[field]}
    assert field in _violations(await http.post("/api/v1/trips", headers=owner.headers, json=body))


ITEM_FIELDS: dict[str, dict[str, Any]] = {
    "title": {"title": "x" * (limits.TITLE + 1)},
    "description": {"description": "x" * (limits.DESCRIPTION + 1)},
    "booking_reference": {"bookingReference": "x" * (limits.SHORT_TEXT + 1)},
    "offer_id": {"offerId": "x" * (limits.SHORT_TEXT + 1)},
    "location.name": {"location": {"name": "x" * (limits.SHORT_TEXT + 1)}},
    "offer_snapshot": {"offerSnapshot": {"blob": "x" * limits.OFFER_SNAPSHOT_BYTES}},
}


@pytest.mark.parametrize("field", list(ITEM_FIELDS))
async def test_each_item_field_over_its_limit_is_a_400_naming_it(
    stub: pb_grpc.TripServiceStub, http: httpx.AsyncClient, owner: Account, field: str
) -> None:
    trip = await stub.CreateTrip(
        pb.CreateTripRequest(trip=pb.Trip(title="Items")), metadata=owner.metadata
    )
    body = {"kind": "ITINERARY_ITEM_KIND_ACTIVITY", "title": "Tram", **ITEM_FIELDS[field]}
    reply = await http.post(f"/api/v1/trips/{trip.trip.id}/items", headers=owner.headers, json=body)
    assert field in _violations(reply)


async def test_invitation_fields_and_counts_are_capped(
    stub: pb_grpc.TripServiceStub, http: httpx.AsyncClient, owner: Account
) -> None:
    trip = (
        await stub.CreateTrip(pb.CreateTripRequest(trip=pb.Trip(title="People")),
                              metadata=owner.metadata)
    ).trip  # fmt: skip
    path = f"/api/v1/trips/{trip.id}/collaborators"
    long_message = {"email": unique_email("m"), "message": "x" * (limits.MESSAGE + 1)}
    assert "message" in _violations(await http.post(path, headers=owner.headers, json=long_message))
    long_email = {"email": "x" * limits.EMAIL + "@example.com"}
    assert "email" in _violations(await http.post(path, headers=owner.headers, json=long_email))
    for _ in range(limits.PEOPLE_PER_TRIP):
        await share(stub, owner, trip.id, unique_email("crowd"), "view")
    full = await http.post(path, headers=owner.headers, json={"email": unique_email("one-more")})
    assert full.status_code == 400, full.text
    assert "TOO_MANY_COLLABORATORS" in full.text


async def test_a_trip_holds_at_most_its_item_cap(
    stub: pb_grpc.TripServiceStub, http: httpx.AsyncClient, owner: Account
) -> None:
    trip = (
        await stub.CreateTrip(pb.CreateTripRequest(trip=pb.Trip(title="Busy")),
                              metadata=owner.metadata)
    ).trip  # fmt: skip
    item = pb.ItineraryItem(kind=pb.ITINERARY_ITEM_KIND_NOTE, title="n")
    for _ in range(limits.ITEMS_PER_TRIP):
        await stub.CreateItineraryItem(
            pb.CreateItineraryItemRequest(trip_id=trip.id, item=item), metadata=owner.metadata
        )
    over = await http.post(
        f"/api/v1/trips/{trip.id}/items", headers=owner.headers,
        json={"kind": "ITINERARY_ITEM_KIND_NOTE", "title": "one more"},
    )  # fmt: skip
    assert over.status_code == 400, over.text
    assert "TOO_MANY_ITEMS" in over.text


def _largest_trip(n: int) -> pb.Trip:
    """A trip with every field at its limit, in four-byte characters."""
    trip = pb.Trip(
        title=f"{n} " + WIDE * (limits.TITLE - 4),
        description=WIDE * limits.DESCRIPTION,
        tags=[WIDE * limits.TAG] * limits.TAGS,
        destinations=[pb.Destination(name=WIDE * limits.TITLE)] * limits.DESTINATIONS,
    )
    trip.preferences.update({"notes": WIDE * ((limits.PREFERENCES_BYTES - 16) // 4)})
    return trip


async def test_listing_trips_shared_with_a_victim_never_fails(
    stub: pb_grpc.TripServiceStub, http: httpx.AsyncClient, owner: Account, victim: Account
) -> None:
    created = set()
    # Enough of the largest trips to overflow a 4 MiB message in one page of 100.
    for n in range(60):
        trip = (
            await stub.CreateTrip(pb.CreateTripRequest(trip=_largest_trip(n)),
                                  metadata=owner.metadata)
        ).trip  # fmt: skip
        await share(stub, owner, trip.id, victim, "view")
        created.add(trip.id)
    seen: list[str] = []
    token = ""
    while True:  # over gRPC with default limits, as another service would list them
        page = await stub.ListTrips(
            pb.ListTripsRequest(page_size=100, page_token=token), metadata=victim.metadata
        )
        assert page.ByteSize() < 4 * 1024 * 1024
        seen += [t.id for t in page.trips]
        token = page.next_page_token
        if not token:
            break
    assert sorted(seen) == sorted(created)
    assert len(seen) == len(set(seen))
    seen, params = [], {"pageSize": "100"}
    while True:  # and over the gateway, as the victim's browser would
        reply = await http.get("/api/v1/trips", headers=victim.headers, params=params)
        assert reply.status_code == 200, reply.text[:200]
        seen += [t["id"] for t in reply.json()["trips"]]
        if not reply.json().get("nextPageToken"):
            break
        params = {"pageSize": "100", "pageToken": reply.json()["nextPageToken"]}
    assert sorted(seen) == sorted(created)


async def test_a_reorder_lists_at_most_the_item_cap(
    stub: pb_grpc.TripServiceStub, http: httpx.AsyncClient, owner: Account
) -> None:
    trip = (
        await stub.CreateTrip(pb.CreateTripRequest(trip=pb.Trip(title="Order")),
                              metadata=owner.metadata)
    ).trip  # fmt: skip
    ids = [str(uuid.uuid4()) for _ in range(limits.ITEMS_PER_TRIP + 1)]
    reply = await http.post(
        f"/api/v1/trips/{trip.id}/items:reorder", headers=owner.headers, json={"itemIds": ids}
    )
    assert "item_ids" in _violations(reply)
