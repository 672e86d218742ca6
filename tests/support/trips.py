"""Helpers for the trips tests: trips shared with a cast of users, tokens, statuses."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

import grpc
import jwt

from tests.support.accounts import Account, register, verified
from tests.support.suite import JWT_SECRET, RunningSuite
from tripsage.trips.v1 import trip_service_pb2 as pb
from tripsage.trips.v1 import trip_service_pb2_grpc as pb_grpc

ROLES = {"view": pb.COLLABORATOR_ROLE_VIEW, "edit": pb.COLLABORATOR_ROLE_EDIT,
         "admin": pb.COLLABORATOR_ROLE_ADMIN}  # fmt: skip


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


def expired_token(user_id: str, email: str = "") -> str:
    """A token signed with the suite's secret that expired two minutes ago."""
    now = int(time.time())
    claims = {"iss": "tripsage", "sub": user_id, "email": email, "aud": "authenticated",
              "role": "authenticated", "iat": now - 1000, "exp": now - 120,
              "session_id": str(uuid.uuid4())}  # fmt: skip
    return jwt.encode(claims, JWT_SECRET, algorithm="HS256")


async def code_of(call: Awaitable[Any]) -> grpc.StatusCode:
    """The status a call ends with (OK when it succeeds)."""
    try:
        await call
    except grpc.aio.AioRpcError as error:
        return error.code()
    return grpc.StatusCode.OK


async def create_trip(stub: pb_grpc.TripServiceStub, owner: Account, **fields: Any) -> pb.Trip:
    values: dict[str, Any] = {"title": "Lisbon", "start_date": "2027-05-01",
                              "end_date": "2027-05-04"}  # fmt: skip
    values.update(fields)
    reply = await stub.CreateTrip(
        pb.CreateTripRequest(trip=pb.Trip(**values)), metadata=owner.metadata
    )
    return reply.trip


async def add_item(
    stub: pb_grpc.TripServiceStub, owner: Account, trip_id: str, title: str = "Walk"
) -> pb.ItineraryItem:
    """An activity item on `trip_id`, added by `owner`."""
    item = pb.ItineraryItem(kind=pb.ITINERARY_ITEM_KIND_ACTIVITY, title=title)
    reply = await stub.CreateItineraryItem(
        pb.CreateItineraryItemRequest(trip_id=trip_id, item=item), metadata=owner.metadata
    )
    return reply.item


async def invite(
    stub: pb_grpc.TripServiceStub, by: Account, trip_id: str, email: str, role: str
) -> pb.Collaborator:
    """A pending invitation of `email` to the trip."""
    reply = await stub.AddCollaborator(
        pb.AddCollaboratorRequest(trip_id=trip_id, email=email, role=ROLES[role]),
        metadata=by.metadata,
    )
    return reply.collaborator


async def share(
    stub: pb_grpc.TripServiceStub, by: Account, trip_id: str, who: Account | str, role: str
) -> pb.Collaborator:
    """Invites `who`; an account (verified, as Cast's are) then accepts, as a person would.

    Returns the invitation as the inviter saw it (a bare address stays pending)."""
    if isinstance(who, str):
        return await invite(stub, by, trip_id, who, role)
    invitation = await invite(stub, by, trip_id, who.email, role)
    await stub.AcceptTripInvitation(
        pb.AcceptTripInvitationRequest(invitation_id=invitation.id), metadata=who.metadata
    )
    return invitation


@dataclass
class Cast:
    """An owner, one collaborator per role, and a stranger, all registered for real and
    with verified addresses (only a verified address can accept an invitation)."""

    owner: Account
    view: Account
    edit: Account
    admin: Account
    stranger: Account

    @classmethod
    async def register(cls, suite: RunningSuite) -> Cast:
        auth = suite.address("auth")
        names = ("owner", "viewer", "editor", "admin", "stranger")
        return cls(*[await verified(suite, await register(auth, name)) for name in names])

    async def shared_trip(self, stub: pb_grpc.TripServiceStub, **fields: Any) -> pb.Trip:
        trip = await create_trip(stub, self.owner, **fields)
        for role in ("view", "edit", "admin"):
            await share(stub, self.owner, trip.id, getattr(self, role), role)
        return trip
