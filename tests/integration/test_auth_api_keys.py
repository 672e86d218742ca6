"""API keys: shown once, stored hashed, listed, scoped, revoked or expired everywhere at once.

Used against the trips service (another process's CallerResolver, which
resolves keys through auth) over gRPC and through the gateway.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import grpc
import httpx
import pytest
import pytest_asyncio

from tests.support.accounts import Account, register
from tests.support.auth_suite import start_suite
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


@pytest.fixture
async def trips(suite: RunningSuite) -> AsyncIterator[trips_grpc.TripServiceStub]:
    async with grpc.aio.insecure_channel(suite.address("trips")) as channel:
        yield trips_grpc.TripServiceStub(channel)


@pytest.fixture
async def ana(suite: RunningSuite) -> Account:
    return await register(suite.address("auth"), "ana")


async def _create(
    http: httpx.AsyncClient, owner: Account, **api_key: object
) -> tuple[dict[str, object], str]:
    reply = await http.post("/api/v1/api-keys", json=api_key, headers=owner.headers)
    assert reply.status_code == 201, reply.text
    body = reply.json()
    return body["apiKey"], body["secret"]


async def test_the_secret_is_shown_once_and_stored_only_hashed(
    http: httpx.AsyncClient, ana: Account, database_dsn: str
) -> None:
    key, secret = await _create(http, ana, name="ci", scopes=["trips:read"])
    assert secret.startswith("tsk_")
    assert key["prefix"] == secret[:12]
    assert key["name"] == "ci"
    assert key["scopes"] == ["trips:read"]
    listed = await http.get("/api/v1/api-keys", headers=ana.headers)
    assert listed.status_code == 200
    assert [k["id"] for k in listed.json()["apiKeys"]] == [key["id"]]
    assert secret not in listed.text
    conn = await asyncpg.connect(database_dsn)
    try:
        row = await conn.fetchrow(
            "SELECT secret_hash FROM tripsage_auth.api_keys WHERE id = $1::uuid", key["id"]
        )
        dump = await conn.fetchval("SELECT string_agg(t::text, '') FROM tripsage_auth.api_keys t")
    finally:
        await conn.close()
    assert bytes(row["secret_hash"]) == hashlib.sha256(secret.encode()).digest()
    assert secret not in dump


async def test_a_key_works_on_another_service_over_grpc_and_the_gateway(
    http: httpx.AsyncClient, trips: trips_grpc.TripServiceStub, ana: Account
) -> None:
    _, secret = await _create(http, ana, name="robot")
    created = await trips.CreateTrip(
        trips_pb.CreateTripRequest(trip=trips_pb.Trip(title="Lisbon")),
        metadata=(("x-api-key", secret),),
    )
    assert created.trip.owner_id == ana.id
    listed = await http.get("/api/v1/trips", headers={"x-api-key": secret})
    assert listed.status_code == 200, listed.text
    assert created.trip.id in {t["id"] for t in listed.json()["trips"]}
    keys = (await http.get("/api/v1/api-keys", headers=ana.headers)).json()["apiKeys"]
    assert keys[0]["lastUseTime"]


async def test_scopes_limit_the_rpcs_a_key_may_call(
    http: httpx.AsyncClient, trips: trips_grpc.TripServiceStub, ana: Account
) -> None:
    _, reader = await _create(http, ana, name="reader", scopes=["trips:read"])
    _, travel_only = await _create(http, ana, name="travel", scopes=["travel:search"])
    assert (await http.get("/api/v1/trips", headers={"x-api-key": reader})).status_code == 200
    denied = await http.post("/api/v1/trips", json={"title": "Nope"}, headers={"x-api-key": reader})
    assert denied.status_code == 403, denied.text
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await trips.ListTrips(trips_pb.ListTripsRequest(), metadata=(("x-api-key", travel_only),))
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_bad_scopes_and_names_are_invalid_arguments(
    http: httpx.AsyncClient, ana: Account
) -> None:
    reply = await http.post(
        "/api/v1/api-keys", json={"name": "", "scopes": ["flights"]}, headers=ana.headers
    )
    assert reply.status_code == 400
    fields = {
        v["field"] for d in reply.json()["error"]["details"] for v in d.get("fieldViolations", [])
    }
    assert fields == {"api_key.name", "api_key.scopes[0]"}


async def test_a_revoked_key_is_refused_at_once_everywhere(
    http: httpx.AsyncClient,
    auth: pb_grpc.AuthServiceStub,
    trips: trips_grpc.TripServiceStub,
    ana: Account,
) -> None:
    key, secret = await _create(http, ana, name="soon revoked")
    metadata = (("x-api-key", secret),)
    await trips.ListTrips(trips_pb.ListTripsRequest(), metadata=metadata)  # now cached by trips
    revoked = await auth.RevokeApiKey(
        pb.RevokeApiKeyRequest(api_key_id=str(key["id"])), metadata=ana.metadata
    )
    assert revoked.api_key.HasField("revoke_time")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await trips.ListTrips(trips_pb.ListTripsRequest(), metadata=metadata)
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    for path in ("/api/v1/trips", "/api/v1/api-keys"):
        assert (await http.get(path, headers={"x-api-key": secret})).status_code == 401
    active = (await http.get("/api/v1/api-keys", headers=ana.headers)).json().get("apiKeys", [])
    assert key["id"] not in {k["id"] for k in active}
    everything = await http.get(
        "/api/v1/api-keys", params={"includeRevoked": "true"}, headers=ana.headers
    )
    assert key["id"] in {k["id"] for k in everything.json()["apiKeys"]}


async def test_another_users_key_cannot_be_revoked(
    suite: RunningSuite, auth: pb_grpc.AuthServiceStub, http: httpx.AsyncClient, ana: Account
) -> None:
    key, _ = await _create(http, ana, name="mine")
    eve = await register(suite.address("auth"), "eve")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await auth.RevokeApiKey(
            pb.RevokeApiKeyRequest(api_key_id=str(key["id"])), metadata=eve.metadata
        )
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_an_expired_key_is_refused(
    http: httpx.AsyncClient, trips: trips_grpc.TripServiceStub, ana: Account
) -> None:
    expire = datetime.now(UTC) + timedelta(seconds=1.5)
    _, secret = await _create(
        http, ana, name="brief", expireTime=expire.isoformat().replace("+00:00", "Z")
    )
    metadata = (("x-api-key", secret),)
    await trips.ListTrips(trips_pb.ListTripsRequest(), metadata=metadata)
    await asyncio.sleep(max(0.0, (expire - datetime.now(UTC)).total_seconds()) + 0.2)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await trips.ListTrips(trips_pb.ListTripsRequest(), metadata=metadata)
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert (await http.get("/api/v1/trips", headers={"x-api-key": secret})).status_code == 401


async def test_keys_are_listed_newest_first_in_pages(
    suite: RunningSuite, http: httpx.AsyncClient
) -> None:
    owner = await register(suite.address("auth"), "pager")
    created = [(await _create(http, owner, name=f"k{i}"))[0]["id"] for i in range(3)]
    first = (
        await http.get("/api/v1/api-keys", params={"pageSize": 2}, headers=owner.headers)
    ).json()
    rest = (
        await http.get(
            "/api/v1/api-keys",
            params={"pageSize": 2, "pageToken": first["nextPageToken"]},
            headers=owner.headers,
        )
    ).json()
    assert [k["id"] for k in first["apiKeys"] + rest["apiKeys"]] == created[::-1]
    assert not rest.get("nextPageToken")
    bad = await http.get("/api/v1/api-keys", params={"pageToken": "garbage"}, headers=owner.headers)
    assert bad.status_code == 400


def _refused_field(reply: httpx.Response) -> str:
    assert reply.status_code == 403, reply.text
    error = reply.json()["error"]
    (info,) = [d for d in error["details"] if d["@type"].endswith("ErrorInfo")]
    assert info["reason"] == "API_KEY_SCOPE_EXCEEDED"
    assert error["message"].startswith(info["metadata"]["field"])
    return str(info["metadata"]["field"])


async def test_a_scoped_key_creates_only_narrower_keys(
    http: httpx.AsyncClient, ana: Account
) -> None:
    _, minter = await _create(http, ana, name="minter", scopes=["auth:CreateApiKey"])
    as_minter = {"x-api-key": minter}
    for scopes in ([], ["trips:read"], ["auth"], ["*:read"]):
        reply = await http.post(
            "/api/v1/api-keys", json={"name": "wider", "scopes": scopes}, headers=as_minter
        )
        assert _refused_field(reply) == "api_key.scopes", scopes
    narrower = await http.post(
        "/api/v1/api-keys",
        json={"name": "same", "scopes": ["auth:CreateApiKey"]},
        headers=as_minter,
    )
    assert narrower.status_code == 201, narrower.text
    _, writer = await _create(http, ana, name="auth writer", scopes=["auth:write"])
    unscoped = await http.post(
        "/api/v1/api-keys", json={"name": "all"}, headers={"x-api-key": writer}
    )
    assert _refused_field(unscoped) == "api_key.scopes"
    names = {
        k["name"]
        for k in (await http.get("/api/v1/api-keys", headers=ana.headers)).json()["apiKeys"]
    }
    assert not names & {"wider", "all"}


async def test_a_key_with_an_expiry_creates_only_keys_that_expire_no_later(
    http: httpx.AsyncClient, ana: Account
) -> None:
    def stamp(moment: datetime) -> str:
        return moment.isoformat().replace("+00:00", "Z")

    expiry = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    _, minter = await _create(http, ana, name="expiring", expireTime=stamp(expiry))
    as_minter = {"x-api-key": minter}
    for extra in ({}, {"expireTime": stamp(expiry + timedelta(seconds=1))}):
        reply = await http.post(
            "/api/v1/api-keys", json={"name": "longer", **extra}, headers=as_minter
        )
        assert _refused_field(reply) == "api_key.expire_time", extra
    for moment in (expiry, expiry - timedelta(hours=1)):
        reply = await http.post(
            "/api/v1/api-keys",
            json={"name": "shorter", "expireTime": stamp(moment)},
            headers=as_minter,
        )
        assert reply.status_code == 201, reply.text
    # A user's own session is bound by neither rule.
    assert (await _create(http, ana, name="free"))[0]["scopes"] == []
