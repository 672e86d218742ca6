"""Register, sign in, refresh with rotation and theft detection, sign out, who am I: over gRPC."""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING

import grpc
import jwt
import pytest

from tests.support.accounts import PASSWORD, register, unique_email
from tests.support.errors import field_violations
from tests.support.suite import JWT_SECRET, RunningSuite
from tripsage.auth.v1 import auth_service_pb2 as pb
from tripsage.trips.v1 import trip_service_pb2 as trips_pb
from tripsage.trips.v1 import trip_service_pb2_grpc as trips_grpc

if TYPE_CHECKING:
    # Only the type stubs name the asyncio stub.
    from tripsage.auth.v1.auth_service_pb2_grpc import AuthServiceAsyncStub as AuthStub

pytestmark = pytest.mark.database


async def test_register_returns_a_supabase_shaped_access_token(auth: AuthStub) -> None:
    email = unique_email("ana")
    reply = await auth.Register(pb.RegisterRequest(email=email, password=PASSWORD, full_name="Ana"))
    assert reply.user.email == email
    assert reply.user.full_name == "Ana"
    assert reply.user.role == pb.USER_ROLE_USER
    assert reply.token_type == "bearer"
    assert reply.expires_in == 900
    claims = jwt.decode(
        reply.access_token, JWT_SECRET, algorithms=["HS256"], audience="authenticated"
    )
    assert claims["sub"] == reply.user.id
    assert claims["email"] == email
    assert claims["role"] == "authenticated"
    assert claims["aud"] == "authenticated"
    assert claims["exp"] - claims["iat"] == 900
    uuid.UUID(claims["session_id"])
    assert reply.refresh_token
    assert reply.refresh_token != reply.access_token


async def test_emails_are_unique_case_insensitively(auth: AuthStub) -> None:
    email = unique_email("bo")
    await auth.Register(pb.RegisterRequest(email=email, password=PASSWORD))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await auth.Register(pb.RegisterRequest(email=f"  {email.upper()} ", password=PASSWORD))
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
    login = await auth.Login(pb.LoginRequest(email=email.upper(), password=PASSWORD))
    assert login.user.email == email


async def test_bad_registration_names_every_bad_field(auth: AuthStub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await auth.Register(pb.RegisterRequest(email="not-an-email", password="short"))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    violations = field_violations(caught.value)
    assert set(violations) == {"email", "password"}
    assert "at least 10 characters" in violations["password"]


async def test_wrong_password_and_unknown_email_look_the_same(auth: AuthStub) -> None:
    email = unique_email("cy")
    await auth.Register(pb.RegisterRequest(email=email, password=PASSWORD))
    messages = set()
    for attempt in (
        pb.LoginRequest(email=email, password="wrong password here"),
        pb.LoginRequest(email=unique_email("nobody"), password=PASSWORD),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await auth.Login(attempt)
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
        messages.add(caught.value.details())
    assert len(messages) == 1


async def test_refresh_rotates_and_reuse_revokes_the_session(auth: AuthStub) -> None:
    email = unique_email("dee")
    first = await auth.Register(pb.RegisterRequest(email=email, password=PASSWORD))
    second = await auth.RefreshSession(pb.RefreshSessionRequest(refresh_token=first.refresh_token))
    assert second.refresh_token != first.refresh_token
    assert second.user.id == first.user.id
    # A thief replays the old token: refused, and the whole session ends.
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await auth.RefreshSession(pb.RefreshSessionRequest(refresh_token=first.refresh_token))
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    # ...so the legitimate holder's newer token no longer works either.
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await auth.RefreshSession(pb.RefreshSessionRequest(refresh_token=second.refresh_token))
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_logout_ends_the_session(auth: AuthStub) -> None:
    signed_in = await auth.Register(
        pb.RegisterRequest(email=unique_email("eve"), password=PASSWORD)
    )
    metadata = (("authorization", f"Bearer {signed_in.access_token}"),)
    await auth.Logout(pb.LogoutRequest(refresh_token=signed_in.refresh_token), metadata=metadata)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await auth.RefreshSession(pb.RefreshSessionRequest(refresh_token=signed_in.refresh_token))
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_current_user_needs_a_token(auth: AuthStub, suite: RunningSuite) -> None:
    user = await register(suite.address("auth"), "fay")
    me = await auth.GetCurrentUser(pb.GetCurrentUserRequest(), metadata=user.metadata)
    assert me.user.id == user.id
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await auth.GetCurrentUser(pb.GetCurrentUserRequest())
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await auth.GetCurrentUser(
            pb.GetCurrentUserRequest(), metadata=(("authorization", "Bearer not.a.jwt"),)
        )
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_a_token_minted_elsewhere_with_the_secret_is_accepted(suite: RunningSuite) -> None:
    """What another system sharing DATABASE_JWT_SECRET and our issuer would issue
    (Supabase's own issuer is accepted when DATABASE_URL is set: test_auth_tokens)."""
    now = int(time.time())
    user_id = str(uuid.uuid4())
    token = jwt.encode(
        {
            "aud": "authenticated",
            "exp": now + 300,
            "iat": now,
            "iss": "tripsage",
            "sub": user_id,
            "email": "sb@example.com",
            "role": "authenticated",
            "session_id": str(uuid.uuid4()),
            "app_metadata": {"provider": "email", "providers": ["email"]},
            "user_metadata": {},
            "aal": "aal1",
            "is_anonymous": False,
        },
        JWT_SECRET,
        algorithm="HS256",
    )
    async with grpc.aio.insecure_channel(suite.address("trips")) as channel:
        trips = trips_grpc.TripServiceStub(channel)
        created = await trips.CreateTrip(
            trips_pb.CreateTripRequest(trip=trips_pb.Trip(title="Porto")),
            metadata=(("authorization", f"Bearer {token}"),),
        )
    assert created.trip.owner_id == user_id


async def test_tokens_signed_with_another_secret_or_expired_are_refused(
    suite: RunningSuite,
) -> None:
    now = int(time.time())
    base = {"aud": "authenticated", "sub": str(uuid.uuid4()), "role": "authenticated", "iat": now}
    forged = jwt.encode({**base, "exp": now + 300}, "another-secret-" * 4, algorithm="HS256")
    expired = jwt.encode(
        {**base, "iat": now - 900, "exp": now - 600}, JWT_SECRET, algorithm="HS256"
    )
    async with grpc.aio.insecure_channel(suite.address("trips")) as channel:
        trips = trips_grpc.TripServiceStub(channel)
        for token in (forged, expired):
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await trips.ListTrips(
                    trips_pb.ListTripsRequest(), metadata=(("authorization", f"Bearer {token}"),)
                )
            assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
