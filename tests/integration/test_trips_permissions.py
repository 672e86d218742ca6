"""The permission matrix: every TripService RPC x every kind of caller, over gRPC and REST.

Callers: the owner, a view / edit / admin collaborator, a signed-in stranger, no
token, and an expired token. Each cell states the outcome the contract promises;
the REST column is derived from the RPC's own google.api.http annotation, so
the gateway is exercised exactly as a browser would use it.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import grpc
import httpx
import pytest
import pytest_asyncio
from google.api import annotations_pb2
from google.protobuf import json_format
from google.protobuf.message import Message

from tests.support.accounts import unique_email
from tests.support.suite import RunningSuite
from tests.support.trips import Cast, bearer, code_of, expired_token, share
from tripsage.trips.v1 import trip_service_pb2 as pb
from tripsage.trips.v1 import trip_service_pb2_grpc as pb_grpc

pytestmark = pytest.mark.database

OK = grpc.StatusCode.OK
NOT_FOUND = grpc.StatusCode.NOT_FOUND
DENIED = grpc.StatusCode.PERMISSION_DENIED
PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION
UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED
HTTP_STATUS = {OK: 200, NOT_FOUND: 404, DENIED: 403, PRECONDITION: 400, UNAUTHENTICATED: 401}
SERVICE = pb.DESCRIPTOR.services_by_name["TripService"]
CALLERS = ("owner", "view", "edit", "admin", "stranger", "no token", "expired token")


@dataclass
class World:
    """A trip shared with the cast, one itinerary item, and one pending invitation."""

    trip: pb.Trip
    item: pb.ItineraryItem
    invitation: pb.Collaborator
    cast: Cast


# Expected outcome per signed-in caller: owner, view, edit, admin, stranger.
EVERYONE = (OK, OK, OK, OK, OK)
READERS = (OK, OK, OK, OK, NOT_FOUND)
EDITORS = (OK, DENIED, OK, OK, NOT_FOUND)
ADMINS = (OK, DENIED, DENIED, OK, NOT_FOUND)
OWNER = (OK, DENIED, DENIED, DENIED, NOT_FOUND)
NOBODY = (NOT_FOUND,) * 5  # an invitation addressed to someone else
MEMBERS_BUT_OWNER = (PRECONDITION, OK, OK, OK, NOT_FOUND)


def _item_update(w: World) -> pb.UpdateItineraryItemRequest:
    return pb.UpdateItineraryItemRequest(
        item=pb.ItineraryItem(id=w.item.id, trip_id=w.trip.id, title="Changed"),
        update_mask={"paths": ["title"]},
    )


# RPC -> (request for a world, expected outcomes, whether the call changes the world).
MATRIX: dict[str, tuple[Callable[[World], Message], tuple[grpc.StatusCode, ...], bool]] = {
    "CreateTrip": (lambda w: pb.CreateTripRequest(trip=pb.Trip(title="New")), EVERYONE, False),
    "GetTrip": (lambda w: pb.GetTripRequest(trip_id=w.trip.id), READERS, False),
    "ListTrips": (lambda w: pb.ListTripsRequest(), EVERYONE, False),
    "UpdateTrip": (
        lambda w: pb.UpdateTripRequest(
            trip=pb.Trip(id=w.trip.id, title="Changed"), update_mask={"paths": ["title"]}
        ),
        EDITORS,
        False,
    ),
    "DeleteTrip": (lambda w: pb.DeleteTripRequest(trip_id=w.trip.id), OWNER, True),
    "DuplicateTrip": (lambda w: pb.DuplicateTripRequest(trip_id=w.trip.id), READERS, False),
    "TransferTripOwnership": (
        lambda w: pb.TransferTripOwnershipRequest(trip_id=w.trip.id, new_owner_id=w.cast.edit.id),
        OWNER,
        True,
    ),
    "ListCollaborators": (lambda w: pb.ListCollaboratorsRequest(trip_id=w.trip.id), READERS, False),
    "AddCollaborator": (
        lambda w: pb.AddCollaboratorRequest(trip_id=w.trip.id, email=unique_email("extra")),
        ADMINS,
        False,
    ),
    "UpdateCollaboratorRole": (
        lambda w: pb.UpdateCollaboratorRoleRequest(
            trip_id=w.trip.id, collaborator_id=w.invitation.id, role=pb.COLLABORATOR_ROLE_EDIT
        ),
        ADMINS,
        False,
    ),
    "RemoveCollaborator": (
        lambda w: pb.RemoveCollaboratorRequest(trip_id=w.trip.id, collaborator_id=w.invitation.id),
        ADMINS,
        True,
    ),
    "LeaveTrip": (lambda w: pb.LeaveTripRequest(trip_id=w.trip.id), MEMBERS_BUT_OWNER, True),
    "ListTripInvitations": (lambda w: pb.ListTripInvitationsRequest(), EVERYONE, False),
    "AcceptTripInvitation": (
        lambda w: pb.AcceptTripInvitationRequest(invitation_id=w.invitation.id),
        NOBODY,
        False,
    ),
    "DeclineTripInvitation": (
        lambda w: pb.DeclineTripInvitationRequest(invitation_id=w.invitation.id),
        NOBODY,
        False,
    ),
    "CreateItineraryItem": (
        lambda w: pb.CreateItineraryItemRequest(
            trip_id=w.trip.id,
            item=pb.ItineraryItem(kind=pb.ITINERARY_ITEM_KIND_NOTE, title="Idea"),
        ),
        EDITORS,
        False,
    ),
    "GetItineraryItem": (
        lambda w: pb.GetItineraryItemRequest(trip_id=w.trip.id, item_id=w.item.id),
        READERS,
        False,
    ),
    "ListItineraryItems": (
        lambda w: pb.ListItineraryItemsRequest(trip_id=w.trip.id),
        READERS,
        False,
    ),
    "UpdateItineraryItem": (_item_update, EDITORS, False),
    "DeleteItineraryItem": (
        lambda w: pb.DeleteItineraryItemRequest(trip_id=w.trip.id, item_id=w.item.id),
        EDITORS,
        True,
    ),
    "ReorderItineraryItems": (
        lambda w: pb.ReorderItineraryItemsRequest(
            trip_id=w.trip.id, day="2027-05-02", item_ids=[w.item.id]
        ),
        EDITORS,
        False,
    ),
    "GetTripSummary": (lambda w: pb.GetTripSummaryRequest(trip_id=w.trip.id), READERS, False),
    "ExportTrip": (
        lambda w: pb.ExportTripRequest(trip_id=w.trip.id, format=pb.EXPORT_FORMAT_ICAL),
        READERS,
        False,
    ),
    "ListTripActivity": (lambda w: pb.ListTripActivityRequest(trip_id=w.trip.id), READERS, False),
    # A stream: its cell is how it opens (accepted, or the status it fails with at once).
    "WatchTrip": (lambda w: pb.WatchTripRequest(trip_id=w.trip.id), READERS, False),
}


def expected(rpc: str, caller: str) -> grpc.StatusCode:
    if caller in ("no token", "expired token"):
        return UNAUTHENTICATED
    return MATRIX[rpc][1][CALLERS.index(caller)]


def test_the_matrix_covers_every_rpc() -> None:
    assert set(MATRIX) == {m.name for m in SERVICE.methods}


async def _opened(call: Any) -> grpc.StatusCode:
    """How a server stream opens: OK once its headers arrive, else the status it ends with."""
    try:
        await call.initial_metadata()
        return OK if not call.done() else await call.code()  # type: ignore[no-any-return]
    finally:
        call.cancel()


async def _world(stub: pb_grpc.TripServiceStub, cast: Cast) -> World:
    trip = await cast.shared_trip(stub)
    item = pb.ItineraryItem(kind=pb.ITINERARY_ITEM_KIND_ACTIVITY, title="Tram", time_zone="UTC")
    item.start_time.FromJsonString("2027-05-02T09:00:00Z")
    created = await stub.CreateItineraryItem(
        pb.CreateItineraryItemRequest(trip_id=trip.id, item=item), metadata=cast.owner.metadata
    )
    invitation = await share(stub, cast.owner, trip.id, unique_email("pending"), "view")
    return World(trip, created.item, invitation, cast)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def stub(suite: RunningSuite) -> AsyncIterator[pb_grpc.TripServiceStub]:
    async with grpc.aio.insecure_channel(suite.address("trips")) as channel:
        yield pb_grpc.TripServiceStub(channel)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def cast(suite: RunningSuite) -> Cast:
    return await Cast.register(suite)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def shared_world(stub: pb_grpc.TripServiceStub, cast: Cast) -> World:
    return await _world(stub, cast)


def _token(cast: Cast, caller: str) -> str | None:
    if caller == "no token":
        return None
    if caller == "expired token":
        return expired_token(cast.owner.id, cast.owner.email)
    return getattr(cast, caller).access_token  # type: ignore[no-any-return]


def _rest(method_name: str, request: Message) -> tuple[str, str, dict[str, Any], Any]:
    """(verb, path, query, body) for `request`, from the RPC's google.api.http rule."""
    rule = SERVICE.methods_by_name[method_name].GetOptions().Extensions[annotations_pb2.http]
    verb = rule.WhichOneof("pattern")
    data = json_format.MessageToDict(request)
    camel = {m.name: m.json_name for m in request.DESCRIPTOR.fields}

    def take(path: str) -> str:
        head, _, rest = path.partition(".")
        holder = data[camel[head]]
        if rest:
            nested = request.DESCRIPTOR.fields_by_name[head].message_type
            return str(holder[{f.name: f.json_name for f in nested.fields}[rest]])
        return str(data.pop(camel[head]))

    path = re.sub(r"\{([^}]+)\}", lambda m: take(m.group(1)), getattr(rule, verb))
    if rule.body == "*":
        return verb, path, {}, data
    if rule.body:
        query = {k: v for k, v in data.items() if k != camel[rule.body]}
        return verb, path, query, data.get(camel[rule.body], {})
    return verb, path, data, None


CELLS = [(rpc, caller) for rpc in MATRIX for caller in CALLERS]


@pytest.mark.parametrize("transport", ["grpc", "rest"])
@pytest.mark.parametrize(("rpc", "caller"), CELLS, ids=[f"{r}-{c}" for r, c in CELLS])
async def test_cell(
    rpc: str,
    caller: str,
    transport: str,
    stub: pb_grpc.TripServiceStub,
    http: httpx.AsyncClient,
    cast: Cast,
    shared_world: World,
) -> None:
    build, _, changes_world = MATRIX[rpc]
    world = await _world(stub, cast) if changes_world else shared_world
    request = build(world)
    token = _token(cast, caller)
    want = expected(rpc, caller)
    streaming = SERVICE.methods_by_name[rpc].server_streaming
    if transport == "grpc":
        method = getattr(stub, rpc)
        call = method(request, metadata=bearer(token) if token else ())
        got = await (_opened(call) if streaming else code_of(call))
        assert got == want, f"{rpc} as {caller}: {got} (expected {want})"
        return
    verb, path, query, body = _rest(rpc, request)
    headers = {"authorization": f"Bearer {token}"} if token else {}
    if streaming:
        async with http.stream(verb.upper(), path, params=query, headers=headers) as reply:
            assert reply.status_code == HTTP_STATUS[want], f"{rpc} as {caller}"
            if want is UNAUTHENTICATED:
                assert "www-authenticate" in reply.headers
        return
    reply = await http.request(verb.upper(), path, params=query, json=body, headers=headers)
    status = HTTP_STATUS[want]
    if want is OK and rpc.startswith("Create"):
        status = 201  # a new resource (gateway/creates.py)
    assert reply.status_code == status, f"{rpc} as {caller}: {reply.text}"
    if want is UNAUTHENTICATED:
        assert "www-authenticate" in reply.headers
