"""Service credentials and the internal RPCs: LookupUsers, ResolveProviderKey, ResolveCredential.

Only TripSage services (holding the SECRET_KEY-derived credential that
service_channel attaches) may call them; end users get PERMISSION_DENIED, over
gRPC and through the gateway.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import httpx
import jwt
import pytest
import pytest_asyncio

from tests.support.accounts import Account, register
from tests.support.auth_suite import start_suite
from tests.support.suite import RunningSuite
from tripsage.auth.v1 import auth_service_pb2 as pb
from tripsage.auth.v1 import auth_service_pb2_grpc as pb_grpc
from tripsage_core.grpc_kit.auth_calls import (
    lookup_users_by_email,
    lookup_users_by_id,
    user_provider_key,
)
from tripsage_core.grpc_kit.client import service_channel
from tripsage_core.grpc_kit.rpc_context import rpc_method_var
from tripsage_core.identity import Principal, current_principal_var
from tripsage_core.service_credentials import SERVICE_TOKEN_HEADER, ServiceCredentials

pytestmark = pytest.mark.database

OPENAI_KEY = "sk-test-internal-0123456789abcdefghij"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def suite(
    database_dsn: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningSuite]:
    running = await start_suite(database_dsn, redis_url, tmp_path_factory.mktemp("data"))
    yield running
    await running.stop()


@pytest.fixture
async def ana(suite: RunningSuite) -> Account:
    return await register(suite.address("auth"), "ana")


async def test_a_service_looks_users_up_by_email_and_id(suite: RunningSuite, ana: Account) -> None:
    bob = await register(suite.address("auth"), "bob")
    by_email = await lookup_users_by_email(
        suite.settings, [f"  {ana.email.upper()} ", bob.email, "nobody@example.com"]
    )
    assert set(by_email) == {ana.email, bob.email}
    assert by_email[ana.email].id == ana.id
    assert by_email[bob.email].full_name == "bob"
    by_id = await lookup_users_by_id(suite.settings, [bob.id])
    assert by_id[bob.id].email == bob.email


async def test_end_users_cannot_call_internal_rpcs(
    suite: RunningSuite, ana: Account, http: httpx.AsyncClient
) -> None:
    async with grpc.aio.insecure_channel(suite.address("auth")) as channel:
        auth = pb_grpc.AuthServiceStub(channel)
        calls = [
            auth.LookupUsers(pb.LookupUsersRequest(emails=[ana.email]), metadata=ana.metadata),
            auth.ResolveProviderKey(
                pb.ResolveProviderKeyRequest(user_id=ana.id, service=pb.PROVIDER_SERVICE_OPENAI),
                metadata=ana.metadata,
            ),
            auth.ResolveCredential(
                pb.ResolveCredentialRequest(api_key="tsk_whatever"), metadata=ana.metadata
            ),
        ]
        for call in calls:
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await call
            assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await auth.LookupUsers(pb.LookupUsersRequest(emails=[ana.email]))
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    for path, body in (
        ("/api/v1/users:lookup", {"emails": [ana.email]}),
        (
            "/api/v1/auth/provider-keys:resolve",
            {"userId": ana.id, "service": "PROVIDER_SERVICE_OPENAI"},
        ),
    ):
        reply = await http.post(path, json=body, headers=ana.headers)
        assert reply.status_code == 403, reply.text
        assert reply.json()["error"]["status"] == "PERMISSION_DENIED"
    # A gateway caller cannot smuggle a service credential in either.
    forged = ServiceCredentials("not-the-secret-key-0123456789abcdefghijkl").issue("trips")
    reply = await http.post(
        "/api/v1/users:lookup", json={"emails": [ana.email]}, headers={SERVICE_TOKEN_HEADER: forged}
    )
    assert reply.status_code == 401


async def test_a_forged_service_credential_is_refused(suite: RunningSuite) -> None:
    forged = ServiceCredentials("not-the-secret-key-0123456789abcdefghijkl").issue("trips")
    async with grpc.aio.insecure_channel(suite.address("auth")) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await pb_grpc.AuthServiceStub(channel).LookupUsers(
                pb.LookupUsersRequest(emails=["a@example.com"]),
                metadata=((SERVICE_TOKEN_HEADER, forged),),
            )
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_the_service_credential_is_not_a_user_token(suite: RunningSuite) -> None:
    """Signed with a key derived from SECRET_KEY (not DATABASE_JWT_SECRET), role service_role."""
    token = ServiceCredentials(
        suite.settings.secret_key.get_secret_value()  # type: ignore[union-attr]
    ).issue("trips")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["role"] == "service_role"
    assert claims["sub"] == "service:trips"
    async with grpc.aio.insecure_channel(suite.address("auth")) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await pb_grpc.AuthServiceStub(channel).GetCurrentUser(
                pb.GetCurrentUserRequest(), metadata=(("authorization", f"Bearer {token}"),)
            )
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_a_service_acts_for_the_end_user_it_serves(suite: RunningSuite, ana: Account) -> None:
    """The end user travels inside the credential: the callee sees Ana, relayed by trips."""
    marker = current_principal_var.set(Principal(user_id=ana.id, email=ana.email))
    try:
        async with service_channel(
            suite.address("auth"), suite.settings, caller="trips"
        ) as channel:
            me = await pb_grpc.AuthServiceStub(channel).GetCurrentUser(pb.GetCurrentUserRequest())
    finally:
        current_principal_var.reset(marker)
    assert me.user.id == ana.id
    # Without an end user, a service alone is not anybody's "me".
    async with service_channel(suite.address("auth"), suite.settings) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await pb_grpc.AuthServiceStub(channel).GetCurrentUser(pb.GetCurrentUserRequest())
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_a_service_resolves_a_users_provider_key_and_it_is_audited(
    suite: RunningSuite, ana: Account, http: httpx.AsyncClient
) -> None:
    assert await user_provider_key(suite.settings, ana.id, "openai") is None
    stored = await http.put(
        "/api/v1/users/me/provider-keys/PROVIDER_SERVICE_OPENAI",
        json={"apiKey": OPENAI_KEY},
        headers=ana.headers,
    )
    assert stored.status_code == 200, stored.text
    marker = rpc_method_var.set("/tripsage.travel.v1.TravelService/SearchFlights")
    try:
        assert await user_provider_key(suite.settings, ana.id, "openai") == OPENAI_KEY
    finally:
        rpc_method_var.reset(marker)
    events = await http.get(
        "/api/v1/users/me/provider-keys/PROVIDER_SERVICE_OPENAI/events", headers=ana.headers
    )
    assert events.status_code == 200, events.text
    newest = events.json()["events"][0]
    assert newest["kind"] == "PROVIDER_KEY_EVENT_KIND_USED"
    assert newest["actor"] == "travel"
    assert OPENAI_KEY not in events.text


async def test_a_service_acting_for_one_user_cannot_fetch_anothers_key(
    suite: RunningSuite, ana: Account
) -> None:
    bob = await register(suite.address("auth"), "bob")
    marker = current_principal_var.set(Principal(user_id=bob.id, email=bob.email))
    try:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await user_provider_key(suite.settings, ana.id, "openai")
        assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert await user_provider_key(suite.settings, bob.id, "openai") is None
    finally:
        current_principal_var.reset(marker)
