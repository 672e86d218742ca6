"""Roles and administration: the first admin from the operator command, listing users,
disabling (tokens and API keys refused at once on every service) and changing roles."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import httpx
import pytest
import pytest_asyncio

from tests.support.accounts import PASSWORD, Account, register, unique_email
from tests.support.auth_suite import cli_env, run_cli, start_suite
from tests.support.suite import RunningSuite
from tripsage.auth.v1 import auth_service_pb2 as pb
from tripsage.auth.v1 import auth_service_pb2_grpc as pb_grpc
from tripsage.trips.v1 import trip_service_pb2 as trips_pb
from tripsage.trips.v1 import trip_service_pb2_grpc as trips_grpc

pytestmark = pytest.mark.database


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def suite(
    database_dsn: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningSuite]:
    running = await start_suite(
        database_dsn, redis_url, tmp_path_factory.mktemp("data"), services=("auth", "trips")
    )
    yield running
    await running.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def root(suite: RunningSuite, tmp_path_factory: pytest.TempPathFactory) -> Account:
    email = unique_email("root")
    env = {
        **cli_env(suite, tmp_path_factory.mktemp("cli")),
        "TRIPSAGE_ADMIN_PASSWORD": PASSWORD,
    }
    done = run_cli(env, "create-admin", "--email", email, "--full-name", "Root")
    assert done.returncode == 0, done.stderr
    assert "administrator" in done.stdout
    async with grpc.aio.insecure_channel(suite.address("auth")) as channel:
        reply = await pb_grpc.AuthServiceStub(channel).Login(
            pb.LoginRequest(email=email, password=PASSWORD)
        )
    assert reply.user.role == pb.USER_ROLE_ADMIN
    return Account(reply.user.id, reply.user.email, reply.access_token, reply.refresh_token)


@pytest.fixture
async def ana(suite: RunningSuite) -> Account:
    return await register(suite.address("auth"), "ana")


async def test_create_admin_promotes_an_existing_account(
    suite: RunningSuite, tmp_path: Path, http: httpx.AsyncClient, ana: Account
) -> None:
    done = run_cli(cli_env(suite, tmp_path), "create-admin", "--email", ana.email.upper())
    assert done.returncode == 0, done.stderr
    me = (await http.get("/api/v1/users/me", headers=ana.headers)).json()["user"]
    assert me["role"] == "USER_ROLE_ADMIN"


async def test_admins_list_users_paged_and_searched(
    http: httpx.AsyncClient, root: Account, ana: Account, suite: RunningSuite
) -> None:
    marker = unique_email("zed").split("@")[0]
    for _ in range(3):
        await register(suite.address("auth"), marker)
    first = await http.get(
        "/api/v1/admin/users", params={"query": marker, "pageSize": 2}, headers=root.headers
    )
    assert first.status_code == 200, first.text
    body = first.json()
    assert len(body["users"]) == 2
    assert body["nextPageToken"]
    rest = await http.get(
        "/api/v1/admin/users",
        params={"query": marker, "pageSize": 2, "pageToken": body["nextPageToken"]},
        headers=root.headers,
    )
    emails = [u["email"] for u in body["users"] + rest.json()["users"]]
    assert len(set(emails)) == 3
    assert all(marker in e for e in emails)
    assert "nextPageToken" not in rest.json() or not rest.json()["nextPageToken"]
    admins = await http.get(
        "/api/v1/admin/users", params={"role": "USER_ROLE_ADMIN"}, headers=root.headers
    )
    assert root.id in {u["id"] for u in admins.json()["users"]}
    assert {u["role"] for u in admins.json()["users"]} == {"USER_ROLE_ADMIN"}
    odd = await http.get("/api/v1/admin/users", params={"query": "50%_off\\"}, headers=root.headers)
    assert odd.status_code == 200
    denied = await http.get("/api/v1/admin/users", headers=ana.headers)
    assert denied.status_code == 403


async def test_a_disabled_users_tokens_and_keys_stop_at_once_on_every_service(
    suite: RunningSuite,
    auth: pb_grpc.AuthServiceStub,
    http: httpx.AsyncClient,
    root: Account,
    ana: Account,
) -> None:
    key = await http.post("/api/v1/api-keys", json={"name": "k"}, headers=ana.headers)
    secret = key.json()["secret"]
    async with grpc.aio.insecure_channel(suite.address("trips")) as channel:
        trips = trips_grpc.TripServiceStub(channel)
        await trips.ListTrips(trips_pb.ListTripsRequest(), metadata=ana.metadata)
        await trips.ListTrips(trips_pb.ListTripsRequest(), metadata=(("x-api-key", secret),))
        disabled = await auth.SetUserDisabled(
            pb.SetUserDisabledRequest(user_id=ana.id, disabled=True), metadata=root.metadata
        )
        assert disabled.user.disabled
        for metadata in (ana.metadata, (("x-api-key", secret),)):
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await trips.ListTrips(trips_pb.ListTripsRequest(), metadata=metadata)
            assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    for path in ("/api/v1/trips", "/api/v1/users/me"):
        assert (await http.get(path, headers=ana.headers)).status_code == 401
    login = await http.post("/api/v1/auth/login", json={"email": ana.email, "password": PASSWORD})
    assert login.status_code == 401
    hidden = await http.get(
        "/api/v1/admin/users", params={"query": ana.email}, headers=root.headers
    )
    assert hidden.json().get("users", []) == []
    shown = await http.get(
        "/api/v1/admin/users",
        params={"query": ana.email, "includeDisabled": "true"},
        headers=root.headers,
    )
    assert [u["id"] for u in shown.json()["users"]] == [ana.id]
    # Enabled again: a fresh sign-in works (the old sessions stay ended).
    enabled = await http.post(
        f"/api/v1/admin/users/{ana.id}:setDisabled", json={"disabled": False}, headers=root.headers
    )
    assert enabled.status_code == 200, enabled.text
    login = await http.post("/api/v1/auth/login", json={"email": ana.email, "password": PASSWORD})
    assert login.status_code == 200
    fresh = {"authorization": f"Bearer {login.json()['accessToken']}"}
    assert (await http.get("/api/v1/trips", headers=fresh)).status_code == 200


async def test_roles_change_and_take_effect_at_once(
    http: httpx.AsyncClient, root: Account, ana: Account
) -> None:
    promoted = await http.post(
        f"/api/v1/admin/users/{ana.id}:setRole",
        json={"role": "USER_ROLE_ADMIN"},
        headers=root.headers,
    )
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["user"]["role"] == "USER_ROLE_ADMIN"
    assert (await http.get("/api/v1/admin/users", headers=ana.headers)).status_code == 200
    await http.post(
        f"/api/v1/admin/users/{ana.id}:setRole",
        json={"role": "USER_ROLE_USER"},
        headers=root.headers,
    )
    assert (await http.get("/api/v1/admin/users", headers=ana.headers)).status_code == 403
    bad = await http.post(f"/api/v1/admin/users/{ana.id}:setRole", json={}, headers=root.headers)
    assert bad.status_code == 400


async def test_other_users_are_not_found_to_non_admins(
    auth: pb_grpc.AuthServiceStub, root: Account, ana: Account, http: httpx.AsyncClient
) -> None:
    for call in (
        auth.SetUserDisabled(
            pb.SetUserDisabledRequest(user_id=root.id, disabled=True), metadata=ana.metadata
        ),
        auth.SetUserRole(
            pb.SetUserRoleRequest(user_id=root.id, role=pb.USER_ROLE_USER), metadata=ana.metadata
        ),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    missing = await http.post(
        "/api/v1/admin/users/not-a-uuid:setDisabled", json={"disabled": True}, headers=root.headers
    )
    assert missing.status_code == 404
    itself = await http.post(
        f"/api/v1/admin/users/{root.id}:setDisabled", json={"disabled": True}, headers=root.headers
    )
    assert itself.status_code == 400
