"""Access tokens across services and the gateway: Supabase-minted tokens, accepted issuers,
secret rotation, refresh-token theft, and ResolveCredential."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import httpx
import jwt
import pytest
import pytest_asyncio

from tests.support.accounts import register
from tests.support.auth_suite import start_suite
from tests.support.suite import RunningSuite
from tripsage.auth.v1 import auth_service_pb2 as pb
from tripsage.auth.v1 import auth_service_pb2_grpc as pb_grpc
from tripsage.trips.v1 import trip_service_pb2 as trips_pb
from tripsage.trips.v1 import trip_service_pb2_grpc as trips_grpc

pytestmark = pytest.mark.database

OLD_SECRET = "old-jwt-secret-0123456789abcdefghijklmnopqrstuvwxyz"
NEW_SECRET = "new-jwt-secret-0123456789abcdefghijklmnopqrstuvwxyz"
SUPABASE_URL = "https://project.supabase.co"
SUPABASE_ISSUER = SUPABASE_URL + "/auth/v1"
NO_ISSUER = ""


def supabase_token(secret: str, user_id: str, email: str, issuer: str = SUPABASE_ISSUER) -> str:
    """A token as a Supabase project issues it (claims per Supabase Auth)."""
    now = int(time.time())
    return jwt.encode(
        {
            "aud": "authenticated",
            "exp": now + 300,
            "iat": now,
            **({"iss": issuer} if issuer else {}),
            "sub": user_id,
            "email": email,
            "role": "authenticated",
            "session_id": str(uuid.uuid4()),
            "app_metadata": {"provider": "email", "providers": ["email"]},
            "user_metadata": {},
            "aal": "aal1",
            "is_anonymous": False,
        },
        secret,
        algorithm="HS256",
    )


async def _suite(
    database_dsn: str, redis_url: str, data_dir: Path, **overrides: object
) -> RunningSuite:
    return await start_suite(
        database_dsn, redis_url, data_dir, services=("auth", "trips"), **overrides
    )


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def rotating(
    database_dsn: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningSuite]:
    running = await _suite(
        database_dsn,
        redis_url,
        tmp_path_factory.mktemp("data"),
        database_jwt_secret=NEW_SECRET,
        database_jwt_previous_secret=OLD_SECRET,
        database_url=SUPABASE_URL,
    )
    yield running
    await running.stop()


async def test_a_supabase_token_is_accepted_by_every_service_and_the_gateway(
    rotating: RunningSuite,
) -> None:
    account = await register(rotating.address("auth"), "sb")
    token = supabase_token(NEW_SECRET, account.id, account.email)
    metadata = (("authorization", f"Bearer {token}"),)
    async with grpc.aio.insecure_channel(rotating.address("auth")) as channel:
        me = await pb_grpc.AuthServiceStub(channel).GetCurrentUser(
            pb.GetCurrentUserRequest(), metadata=metadata
        )
    assert me.user.id == account.id
    async with grpc.aio.insecure_channel(rotating.address("trips")) as channel:
        await trips_grpc.TripServiceStub(channel).ListTrips(
            trips_pb.ListTripsRequest(), metadata=metadata
        )
    async with httpx.AsyncClient(base_url=rotating.gateway_url, timeout=10) as http:
        for path in ("/api/v1/users/me", "/api/v1/trips"):
            reply = await http.get(path, headers={"authorization": f"Bearer {token}"})
            assert reply.status_code == 200, reply.text


async def test_tokens_of_the_previous_secret_work_until_it_is_removed(
    rotating: RunningSuite, database_dsn: str, redis_url: str, tmp_path: Path
) -> None:
    account = await register(rotating.address("auth"), "rot")
    old = supabase_token(OLD_SECRET, account.id, account.email)
    async with httpx.AsyncClient(base_url=rotating.gateway_url, timeout=10) as http:
        for path in ("/api/v1/users/me", "/api/v1/trips"):
            reply = await http.get(path, headers={"authorization": f"Bearer {old}"})
            assert reply.status_code == 200, reply.text
    removed = await _suite(
        database_dsn,
        redis_url,
        tmp_path / "removed",
        database_jwt_secret=NEW_SECRET,
        database_url=SUPABASE_URL,
    )
    try:
        async with httpx.AsyncClient(base_url=removed.gateway_url, timeout=10) as http:
            for path in ("/api/v1/users/me", "/api/v1/trips"):
                reply = await http.get(path, headers={"authorization": f"Bearer {old}"})
                assert reply.status_code == 401
    finally:
        await removed.stop()


async def _status_everywhere(suite: RunningSuite, token: str) -> set[object]:
    """What the gateway (auth and trips behind it) and trips over gRPC answer a token."""
    answers: set[object] = set()
    async with httpx.AsyncClient(base_url=suite.gateway_url, timeout=10) as http:
        for path in ("/api/v1/users/me", "/api/v1/trips"):
            reply = await http.get(path, headers={"authorization": f"Bearer {token}"})
            answers.add(reply.status_code)
    async with grpc.aio.insecure_channel(suite.address("trips")) as channel:
        try:
            await trips_grpc.TripServiceStub(channel).ListTrips(
                trips_pb.ListTripsRequest(), metadata=(("authorization", f"Bearer {token}"),)
            )
            answers.add(grpc.StatusCode.OK)
        except grpc.aio.AioRpcError as exc:
            answers.add(exc.code())
    return answers


@pytest.mark.parametrize(
    "issuer",
    ["https://evil.example.com/auth/v1", "https://other.supabase.co/auth/v1", NO_ISSUER],
)
async def test_tokens_of_other_issuers_or_none_are_refused_everywhere(
    rotating: RunningSuite, issuer: str
) -> None:
    account = await register(rotating.address("auth"), "iss")
    token = supabase_token(NEW_SECRET, account.id, account.email, issuer=issuer)
    assert await _status_everywhere(rotating, token) == {401, grpc.StatusCode.UNAUTHENTICATED}


async def test_supabase_tokens_need_the_project_url_and_configured_issuers_pass(
    database_dsn: str, redis_url: str, tmp_path: Path
) -> None:
    extra = "https://login.example.com"
    plain = await _suite(
        database_dsn,
        redis_url,
        tmp_path / "plain",
        database_jwt_secret=NEW_SECRET,
        token_extra_issuers=[extra],
    )
    try:
        account = await register(plain.address("auth"), "plain")
        supabase = supabase_token(NEW_SECRET, account.id, account.email)
        assert await _status_everywhere(plain, supabase) == {401, grpc.StatusCode.UNAUTHENTICATED}
        configured = supabase_token(NEW_SECRET, account.id, account.email, issuer=extra)
        assert await _status_everywhere(plain, configured) == {200, grpc.StatusCode.OK}
        own = jwt.decode(account.access_token, options={"verify_signature": False})
        assert own["iss"] == "tripsage"
        assert await _status_everywhere(plain, account.access_token) == {200, grpc.StatusCode.OK}
    finally:
        await plain.stop()


async def test_refresh_token_theft_revokes_the_session_through_the_gateway(
    rotating: RunningSuite,
) -> None:
    account = await register(rotating.address("auth"), "dee")
    async with httpx.AsyncClient(base_url=rotating.gateway_url, timeout=10) as http:
        rotated = await http.post(
            "/api/v1/auth/refresh", json={"refreshToken": account.refresh_token}
        )
        assert rotated.status_code == 200, rotated.text
        fresh = rotated.json()
        assert fresh["refreshToken"] != account.refresh_token
        # The thief replays the stolen, already-rotated token.
        stolen = await http.post(
            "/api/v1/auth/refresh", json={"refreshToken": account.refresh_token}
        )
        assert stolen.status_code == 401
        # The whole family is gone: the newest refresh token and the access tokens too.
        legit = await http.post(
            "/api/v1/auth/refresh", json={"refreshToken": fresh["refreshToken"]}
        )
        assert legit.status_code == 401
        for token in (account.access_token, fresh["accessToken"]):
            me = await http.get("/api/v1/trips", headers={"authorization": f"Bearer {token}"})
            assert me.status_code == 401


async def test_resolve_credential_turns_an_access_token_into_its_principal(
    rotating: RunningSuite,
) -> None:
    account = await register(rotating.address("auth"), "res")
    async with grpc.aio.insecure_channel(rotating.address("auth")) as channel:
        reply = await pb_grpc.AuthServiceStub(channel).ResolveCredential(
            pb.ResolveCredentialRequest(access_token=account.access_token)
        )
    assert reply.principal.user_id == account.id
    assert reply.principal.kind == pb.PRINCIPAL_KIND_USER
    assert reply.principal.session_id
