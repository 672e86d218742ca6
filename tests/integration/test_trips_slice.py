"""Trips create/get/list/update/delete for their owner, over gRPC and through the gateway."""

from __future__ import annotations

import grpc
import httpx
import pytest

from tests.support.accounts import Account, register
from tests.support.suite import RunningSuite
from tripsage.trips.v1 import trip_service_pb2 as pb
from tripsage.trips.v1 import trip_service_pb2_grpc as pb_grpc

pytestmark = pytest.mark.database


@pytest.fixture
async def ana(suite: RunningSuite) -> Account:
    return await register(suite.address("auth"), "ana")


@pytest.fixture
async def ben(suite: RunningSuite) -> Account:
    return await register(suite.address("auth"), "ben")


async def test_create_get_and_list_over_grpc(
    trips: pb_grpc.TripServiceAsyncStub, ana: Account
) -> None:
    trip = pb.Trip(
        title="Lisbon",
        description="Pastéis and trams",
        start_date="2027-05-01",
        end_date="2027-05-05",
        destinations=[pb.Destination(name="Lisbon", country_code="pt", arrival_date="2027-05-01")],
        travelers=pb.Travelers(adults=2, children=1),
        tags=["food"],
    )
    trip.budget.currency_code = "EUR"
    trip.budget.units = 1500
    created = (await trips.CreateTrip(pb.CreateTripRequest(trip=trip), metadata=ana.metadata)).trip
    assert created.id
    assert created.owner_id == ana.id
    assert created.status == pb.TRIP_STATUS_PLANNING
    assert created.caller_access == pb.TRIP_ACCESS_OWNER
    assert created.destinations[0].country_code == "PT"
    assert created.budget.units == 1500
    assert created.etag
    fetched = (
        await trips.GetTrip(pb.GetTripRequest(trip_id=created.id), metadata=ana.metadata)
    ).trip
    assert fetched == created
    listed = await trips.ListTrips(pb.ListTripsRequest(), metadata=ana.metadata)
    assert [t.id for t in listed.trips] == [created.id]


async def test_another_user_sees_nothing(
    trips: pb_grpc.TripServiceAsyncStub, ana: Account, ben: Account
) -> None:
    created = (
        await trips.CreateTrip(
            pb.CreateTripRequest(trip=pb.Trip(title="Private")), metadata=ana.metadata
        )
    ).trip
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await trips.GetTrip(pb.GetTripRequest(trip_id=created.id), metadata=ben.metadata)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    listed = await trips.ListTrips(pb.ListTripsRequest(), metadata=ben.metadata)
    assert list(listed.trips) == []
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await trips.DeleteTrip(pb.DeleteTripRequest(trip_id=created.id), metadata=ben.metadata)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await trips.UpdateTrip(
            pb.UpdateTripRequest(
                trip=pb.Trip(id=created.id, title="Mine now"), update_mask={"paths": ["title"]}
            ),
            metadata=ben.metadata,
        )
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_no_token_is_unauthenticated(trips: pb_grpc.TripServiceAsyncStub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await trips.ListTrips(pb.ListTripsRequest())
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_the_newcomer_steps_through_the_gateway(http: httpx.AsyncClient) -> None:
    body = {"email": "gw-ana@example.com", "password": "correct horse battery", "fullName": "Ana"}
    registered = await http.post("/api/v1/auth/register", json=body)
    assert registered.status_code == 200, registered.text
    assert set(registered.json()) >= {"user", "accessToken", "refreshToken", "expiresIn"}
    login = await http.post(
        "/api/v1/auth/login", json={"email": body["email"], "password": body["password"]}
    )
    assert login.status_code == 200
    headers = {"authorization": f"Bearer {login.json()['accessToken']}"}
    created = await http.post(
        "/api/v1/trips",
        headers=headers,
        json={"title": "Lisbon", "startDate": "2027-05-01", "endDate": "2027-05-05"},
    )
    assert created.status_code == 201, created.text
    trip = created.json()["trip"]
    assert trip["title"] == "Lisbon"
    assert trip["startDate"] == "2027-05-01"
    assert trip["status"] == "TRIP_STATUS_PLANNING"
    listed = await http.get("/api/v1/trips", headers=headers)
    assert [t["id"] for t in listed.json()["trips"]] == [trip["id"]]
    got = await http.get(f"/api/v1/trips/{trip['id']}", headers=headers)
    assert got.json()["trip"] == trip

    other = await http.post(
        "/api/v1/auth/register",
        json={"email": "gw-ben@example.com", "password": "another fine passphrase"},
    )
    other_headers = {"authorization": f"Bearer {other.json()['accessToken']}"}
    assert (await http.get("/api/v1/trips", headers=other_headers)).json()["trips"] == []
    hidden = await http.get(f"/api/v1/trips/{trip['id']}", headers=other_headers)
    assert hidden.status_code == 404
    assert hidden.json()["error"]["status"] == "NOT_FOUND"


async def test_bad_trips_get_400_with_the_fields(http: httpx.AsyncClient, ana: Account) -> None:
    reply = await http.post(
        "/api/v1/trips",
        headers=ana.headers,
        json={
            "title": "",
            "startDate": "2027-05-05",
            "endDate": "2027-05-01",
            "budget": {"currencyCode": "euro", "units": "-5"},
        },
    )
    assert reply.status_code == 400
    error = reply.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    bad = next(d for d in error["details"] if d["@type"].endswith("BadRequest"))
    fields = {v["field"] for v in bad["fieldViolations"]}
    assert {"title", "end_date", "budget.currency_code", "budget"} <= fields
    not_a_date = await http.post(
        "/api/v1/trips", headers=ana.headers, json={"title": "x", "startDate": "May 1st"}
    )
    assert not_a_date.status_code == 400
    assert "start_date" in not_a_date.text
    not_an_id = await http.get("/api/v1/trips/not-a-uuid", headers=ana.headers)
    assert not_an_id.status_code == 400


async def test_pages_walk_every_trip_once(
    trips: pb_grpc.TripServiceAsyncStub, suite: RunningSuite
) -> None:
    owner = await register(suite.address("auth"), "pager")
    made = set()
    for day in range(1, 8):
        start = f"2027-06-{day:02d}" if day % 3 else ""  # some trips have no dates yet
        reply = await trips.CreateTrip(
            pb.CreateTripRequest(trip=pb.Trip(title=f"T{day}", start_date=start)),
            metadata=owner.metadata,
        )
        made.add(reply.trip.id)
    for order in (pb.LIST_TRIPS_ORDER_START_DATE, pb.LIST_TRIPS_ORDER_UPDATE_TIME):
        seen: list[str] = []
        token = ""
        while True:
            page = await trips.ListTrips(
                pb.ListTripsRequest(page_size=3, page_token=token, order_by=order),
                metadata=owner.metadata,
            )
            assert len(page.trips) <= 3
            seen.extend(t.id for t in page.trips)
            token = page.next_page_token
            if not token:
                break
        assert sorted(seen) == sorted(made), order
        assert len(seen) == len(made)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await trips.ListTrips(pb.ListTripsRequest(page_token="garbage"), metadata=owner.metadata)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_update_checks_the_etag_and_delete_removes(
    trips: pb_grpc.TripServiceAsyncStub, ana: Account
) -> None:
    created = (
        await trips.CreateTrip(
            pb.CreateTripRequest(trip=pb.Trip(title="Rome")), metadata=ana.metadata
        )
    ).trip
    updated = (
        await trips.UpdateTrip(
            pb.UpdateTripRequest(
                trip=pb.Trip(id=created.id, title="Rome and Naples", etag=created.etag),
                update_mask={"paths": ["title"]},
            ),
            metadata=ana.metadata,
        )
    ).trip
    assert updated.title == "Rome and Naples"
    assert updated.etag != created.etag
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await trips.UpdateTrip(
            pb.UpdateTripRequest(
                trip=pb.Trip(id=created.id, title="Lost update", etag=created.etag),
                update_mask={"paths": ["title"]},
            ),
            metadata=ana.metadata,
        )
    assert caught.value.code() == grpc.StatusCode.ABORTED
    await trips.DeleteTrip(pb.DeleteTripRequest(trip_id=created.id), metadata=ana.metadata)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await trips.GetTrip(pb.GetTripRequest(trip_id=created.id), metadata=ana.metadata)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
