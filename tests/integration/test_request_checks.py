"""Bad input is a 400 naming the field, for every RPC of every service (issue 8, items 13
and 14): NUL characters, enum numbers the contract does not name, non-finite numbers,
instants outside the calendar. Over the gateway, and straight to the services."""

from __future__ import annotations

from typing import Any

import grpc
import httpx
import pytest
from google.protobuf import struct_pb2

from tests.support.accounts import Account, register, unique_email, verified
from tests.support.errors import field_violations, http_field_violations
from tests.support.suite import RunningSuite
from tripsage.auth.v1 import auth_service_pb2 as auth_pb
from tripsage.auth.v1 import auth_service_pb2_grpc as auth_grpc
from tripsage.travel.v1 import travel_service_pb2 as travel_pb
from tripsage.travel.v1 import travel_service_pb2_grpc as travel_grpc
from tripsage.trips.v1 import trip_service_pb2 as pb
from tripsage.trips.v1 import trip_service_pb2_grpc as pb_grpc

pytestmark = pytest.mark.database

TRIP = {"title": "Lisbon", "startDate": "2027-05-01", "endDate": "2027-05-04"}


@pytest.fixture
async def ana(suite: RunningSuite) -> Account:
    return await verified(suite, await register(suite.address("auth"), "ana"))


def assert_refused(reply: httpx.Response, field: str) -> str:
    assert reply.status_code == 400, reply.text
    found = http_field_violations(reply)
    assert field in found, found
    return found[field]


async def a_trip(http: httpx.AsyncClient, owner: Account, **fields: Any) -> dict[str, Any]:
    reply = await http.post("/api/v1/trips", json={**TRIP, **fields}, headers=owner.headers)
    assert reply.status_code == 201, reply.text
    trip: dict[str, Any] = reply.json()["trip"]
    return trip


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": "Lis\u0000bon"}, "trip.title"),
        ({"description": "\u0000"}, "trip.description"),
        ({"tags": ["ok", "b\u0000d"]}, "trip.tags[1]"),
        ({"destinations": [{"name": "Lis\u0000bon"}]}, "trip.destinations[0].name"),
        ({"preferences": {"pace": "slow\u0000"}}, "trip.preferences.pace"),
        ({"preferences": {"nested": {"list": ["a", "\u0000"]}}}, "trip.preferences.nested.list[1]"),
        ({"preferences": {"pa\u0000ce": "slow"}}, "trip.preferences"),
    ],
)
async def test_a_nul_in_any_trip_field_is_a_400_naming_it(
    http: httpx.AsyncClient, ana: Account, fields: dict[str, Any], field: str
) -> None:
    reply = await http.post("/api/v1/trips", json={**TRIP, **fields}, headers=ana.headers)
    assert "U+0000" in assert_refused(reply, field)


async def test_a_nul_in_a_query_parameter_is_a_400(http: httpx.AsyncClient, ana: Account) -> None:
    reply = await http.get("/api/v1/trips", params={"query": "lis\u0000"}, headers=ana.headers)
    assert_refused(reply, "query")


async def test_a_nul_in_an_item_or_a_collaborator_email_is_a_400(
    http: httpx.AsyncClient, ana: Account
) -> None:
    trip = await a_trip(http, ana)
    reply = await http.post(
        f"/api/v1/trips/{trip['id']}/items",
        json={
            "title": "Dinner",
            "kind": "ITINERARY_ITEM_KIND_MEAL",
            "bookingReference": "AB\u0000",
        },
        headers=ana.headers,
    )
    assert_refused(reply, "item.booking_reference")
    reply = await http.post(
        f"/api/v1/trips/{trip['id']}/collaborators",
        json={"email": "bo\u0000@example.com", "role": "COLLABORATOR_ROLE_VIEW"},
        headers=ana.headers,
    )
    assert_refused(reply, "email")


async def test_a_nul_in_auth_fields_is_a_400(http: httpx.AsyncClient, ana: Account) -> None:
    reply = await http.post(
        "/api/v1/auth/register",
        json={"email": f"a\u0000{unique_email()}", "password": "correct horse battery"},
    )
    assert_refused(reply, "email")
    reply = await http.post(
        "/api/v1/auth/register",
        json={"email": unique_email(), "password": "correct horse battery", "fullName": "A\u0000"},
    )
    assert_refused(reply, "full_name")
    reply = await http.post("/api/v1/auth/login", json={"email": "\u0000", "password": "x"})
    assert_refused(reply, "email")
    reply = await http.patch(
        "/api/v1/users/me", json={"fullName": "Ana\u0000"}, headers=ana.headers
    )
    assert_refused(reply, "user.full_name")
    reply = await http.post("/api/v1/api-keys", json={"name": "ci\u0000"}, headers=ana.headers)
    assert_refused(reply, "api_key.name")


@pytest.mark.parametrize(
    ("fields", "field"), [({"status": 999}, "trip.status"), ({"visibility": 42}, "trip.visibility")]
)
async def test_unknown_enum_numbers_in_a_trip_are_a_400(
    http: httpx.AsyncClient, ana: Account, fields: dict[str, Any], field: str
) -> None:
    reply = await http.post("/api/v1/trips", json={**TRIP, **fields}, headers=ana.headers)
    assert "is not a Trip" in assert_refused(reply, field)


async def test_unknown_enum_numbers_in_items_and_queries_are_a_400(
    http: httpx.AsyncClient, ana: Account
) -> None:
    trip = await a_trip(http, ana)
    reply = await http.post(
        f"/api/v1/trips/{trip['id']}/items", json={"title": "x", "kind": 77}, headers=ana.headers
    )
    assert_refused(reply, "item.kind")
    reply = await http.get("/api/v1/trips", params={"status": "999"}, headers=ana.headers)
    assert_refused(reply, "status")


async def test_non_finite_numbers_are_a_400(http: httpx.AsyncClient, ana: Account) -> None:
    for body in (b'{"pace": 1e400}', b'{"pace": NaN}', b'{"pace": -Infinity}'):
        reply = await http.post(
            "/api/v1/trips",
            content=b'{"title": "x", "preferences": ' + body + b"}",
            headers={**ana.headers, "content-type": "application/json"},
        )
        assert_refused(reply, "trip.preferences.pace")
    reply = await http.post(
        "/api/v1/accommodations:search",
        json={
            "destination": "Lisbon",
            "checkInDate": "2027-05-01",
            "checkOutDate": "2027-05-03",
            "minReviewScore": "NaN",
        },
        headers=ana.headers,
    )
    assert_refused(reply, "min_review_score")


async def test_the_services_refuse_the_same_over_grpc(suite: RunningSuite, ana: Account) -> None:
    preferences = struct_pb2.Struct()
    preferences.update({"pace": float("inf"), "mood": "calm\x00"})
    async with grpc.aio.insecure_channel(suite.address("trips")) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await pb_grpc.TripServiceStub(channel).CreateTrip(
                pb.CreateTripRequest(
                    trip=pb.Trip(title="a\x00", status=999, tags=["\x00"], preferences=preferences)  # type: ignore[arg-type]
                ),
                metadata=ana.metadata,
            )
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert set(field_violations(caught.value)) == {
        "trip.title", "trip.status", "trip.tags[0]", "trip.preferences.pace",
        "trip.preferences.mood",
    }  # fmt: skip
    async with grpc.aio.insecure_channel(suite.address("auth")) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await auth_grpc.AuthServiceStub(channel).Register(
                auth_pb.RegisterRequest(email="\x00@example.com", password="x" * 20)
            )
    assert field_violations(caught.value).keys() == {"email"}
    async with grpc.aio.insecure_channel(suite.address("travel")) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await travel_grpc.TravelServiceStub(channel).SearchAccommodations(
                travel_pb.SearchAccommodationsRequest(
                    destination="Lis\x00bon", min_review_score=float("nan")
                ),
                metadata=ana.metadata,
            )
    assert field_violations(caught.value).keys() == {"destination", "min_review_score"}


async def test_dates_at_the_ends_of_the_calendar_are_a_400(
    http: httpx.AsyncClient, ana: Account
) -> None:
    trip = await a_trip(http, ana)
    reply = await http.post(
        f"/api/v1/trips/{trip['id']}/items",
        json={
            "title": "Last dinner",
            "kind": "ITINERARY_ITEM_KIND_MEAL",
            "startTime": "9999-12-31T23:00:00Z",
            "timeZone": "Asia/Tokyo",
        },
        headers=ana.headers,
    )
    assert "1900 and 2200" in assert_refused(reply, "start_time")
    reply = await http.post(
        f"/api/v1/trips/{trip['id']}:duplicate", json={"startDate": "9999-12-31"},
        headers=ana.headers,
    )  # fmt: skip
    assert_refused(reply, "start_date")
    # Within the calendar, but the copy's last day would fall past it.
    reply = await http.post(
        f"/api/v1/trips/{trip['id']}:duplicate", json={"startDate": "2200-12-30"},
        headers=ana.headers,
    )  # fmt: skip
    assert_refused(reply, "end_date")
    reply = await http.post("/api/v1/trips", json={**TRIP, "startDate": "1899-12-31"},
                            headers=ana.headers)  # fmt: skip
    assert_refused(reply, "start_date")
    reply = await http.get(
        "/api/v1/trips", params={"startDateFrom": "0001-01-01"}, headers=ana.headers
    )
    assert_refused(reply, "start_date_from")
