"""BYOK provider keys: encrypted at rest, masked, validated (live against a local Duffel-shaped
server, or "format valid, not verified" when the provider cannot be reached), replaced,
deleted, audited, and never written to any log."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Iterator

import asyncpg
import grpc
import httpx
import pytest
import pytest_asyncio
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.support.accounts import Account, register
from tests.support.auth_suite import start_suite
from tests.support.suite import RunningSuite
from tripsage.auth.v1 import auth_service_pb2 as pb
from tripsage.auth.v1 import auth_service_pb2_grpc as pb_grpc
from tripsage_core.embedded import free_port
from tripsage_core.grpc_kit.auth_calls import user_provider_key

pytestmark = pytest.mark.database

GOOD_DUFFEL = "duffel_test_GOODgoodGOODgood1234567890"
BAD_DUFFEL = "duffel_test_BADbadBADbadBADbad0987654321"
WEATHER_KEY = "0123456789abcdef0123456789abcdef"
OPENAI_KEY = "sk-proj-KNOWNsecretVALUE1234567890"
KNOWN_KEYS = (GOOD_DUFFEL, BAD_DUFFEL, WEATHER_KEY, OPENAI_KEY)


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.getMessage()} {record.__dict__}")


@pytest.fixture(scope="module")
def captured_logs() -> Iterator[_Capture]:
    """Every log record of this module's run, from every service, the gateway and the test."""
    capture = _Capture()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        root.setLevel(previous)


async def _airlines(request: Request) -> JSONResponse:
    """Duffel's GET /air/airlines: the cheapest authenticated call Duffel offers."""
    if request.headers.get("duffel-version") != "v2":
        return JSONResponse({"errors": [{"code": "unsupported_version"}]}, status_code=400)
    if request.headers.get("authorization") != f"Bearer {GOOD_DUFFEL}":
        return JSONResponse({"errors": [{"code": "invalid_authorization"}]}, status_code=401)
    return JSONResponse({"data": [{"id": "arl_1", "iata_code": "BA", "name": "British Airways"}]})


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def duffel_url() -> AsyncIterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    app = Starlette(routes=[Route("/air/airlines", _airlines)])
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    await task
    sock.close()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def suite(
    database_dsn: str,
    redis_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    duffel_url: str,
    captured_logs: _Capture,
) -> AsyncIterator[RunningSuite]:
    running = await start_suite(
        database_dsn,
        redis_url,
        tmp_path_factory.mktemp("data"),
        duffel_api_url=duffel_url,
        # Nothing listens there: the provider "cannot be reached".
        openweathermap_api_url=f"http://127.0.0.1:{free_port()}",
    )
    yield running
    await running.stop()


@pytest.fixture
async def ana(suite: RunningSuite) -> Account:
    return await register(suite.address("auth"), "ana")


def _path(service: str, suffix: str = "") -> str:
    return f"/api/v1/users/me/provider-keys/PROVIDER_SERVICE_{service.upper()}{suffix}"


async def test_keys_are_stored_encrypted_and_listed_masked(
    http: httpx.AsyncClient, ana: Account, database_dsn: str
) -> None:
    stored = await http.put(_path("openai"), json={"apiKey": OPENAI_KEY}, headers=ana.headers)
    assert stored.status_code == 200, stored.text
    key = stored.json()["providerKey"]
    assert key["lastFour"] == OPENAI_KEY[-4:]
    assert key["status"] == "PROVIDER_KEY_STATUS_UNVERIFIED"
    assert key["statusMessage"] == "format valid, not verified"
    listed = await http.get("/api/v1/users/me/provider-keys", headers=ana.headers)
    assert [k["service"] for k in listed.json()["providerKeys"]] == ["PROVIDER_SERVICE_OPENAI"]
    assert OPENAI_KEY not in stored.text + listed.text
    conn = await asyncpg.connect(database_dsn)
    try:
        row = await conn.fetchrow(
            "SELECT * FROM tripsage_auth.provider_keys WHERE user_id = $1::uuid", ana.id
        )
    finally:
        await conn.close()
    assert OPENAI_KEY.encode() not in bytes(row["ciphertext"])
    assert len(row["nonce"]) == 12
    assert len(row["salt"]) == 16
    assert row["key_id"]
    assert row["key_version"] == 1


async def test_a_badly_formed_key_is_refused_with_the_reason(
    auth: pb_grpc.AuthServiceStub, ana: Account
) -> None:
    for service, key in (
        (pb.PROVIDER_SERVICE_GOOGLE_MAPS, "not-a-google-key"),
        (pb.PROVIDER_SERVICE_DUFFEL, "sk-wrong-provider-0123456789abc"),
        (pb.PROVIDER_SERVICE_UNSPECIFIED, GOOD_DUFFEL),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await auth.PutProviderKey(
                pb.PutProviderKeyRequest(service=service, api_key=key), metadata=ana.metadata
            )
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_live_validation_against_the_provider(
    auth: pb_grpc.AuthServiceStub, http: httpx.AsyncClient, ana: Account
) -> None:
    refused = await http.put(
        _path("duffel"), json={"apiKey": BAD_DUFFEL, "validate": True}, headers=ana.headers
    )
    assert refused.status_code == 400
    assert "refused" in refused.text
    stored = await auth.PutProviderKey(
        pb.PutProviderKeyRequest(
            service=pb.PROVIDER_SERVICE_DUFFEL, api_key=GOOD_DUFFEL, validate=True
        ),
        metadata=ana.metadata,
    )
    assert stored.provider_key.status == pb.PROVIDER_KEY_STATUS_VALID
    checked = await http.post(_path("duffel", ":validate"), json={}, headers=ana.headers)
    assert checked.status_code == 200, checked.text
    assert checked.json()["valid"] is True
    assert checked.json()["providerKey"]["lastValidateTime"]


async def test_an_unreachable_provider_means_format_valid_not_verified(
    http: httpx.AsyncClient, ana: Account
) -> None:
    await http.put(_path("openweathermap"), json={"apiKey": WEATHER_KEY}, headers=ana.headers)
    checked = await http.post(_path("openweathermap", ":validate"), json={}, headers=ana.headers)
    assert checked.status_code == 200, checked.text
    body = checked.json()
    assert body.get("valid", False) is False
    assert body["providerKey"]["status"] == "PROVIDER_KEY_STATUS_UNVERIFIED"
    assert body["providerKey"]["statusMessage"].startswith("format valid, not verified")


async def test_replace_delete_and_the_audit_trail(
    suite: RunningSuite, http: httpx.AsyncClient, ana: Account
) -> None:
    await http.put(_path("duffel"), json={"apiKey": BAD_DUFFEL}, headers=ana.headers)
    await http.put(_path("duffel"), json={"apiKey": GOOD_DUFFEL}, headers=ana.headers)
    assert await user_provider_key(suite.settings, ana.id, "duffel") == GOOD_DUFFEL
    await http.post(_path("duffel", ":validate"), json={}, headers=ana.headers)
    deleted = await http.delete(_path("duffel"), headers=ana.headers)
    assert deleted.status_code == 200
    assert await user_provider_key(suite.settings, ana.id, "duffel") is None
    again = await http.delete(_path("duffel"), headers=ana.headers)
    assert again.status_code == 404
    first = await http.get(_path("duffel", "/events"), params={"pageSize": 3}, headers=ana.headers)
    assert first.status_code == 200, first.text
    rest = await http.get(
        _path("duffel", "/events"),
        params={"pageSize": 3, "pageToken": first.json()["nextPageToken"]},
        headers=ana.headers,
    )
    events = first.json()["events"] + rest.json()["events"]
    kinds = [e["kind"].removeprefix("PROVIDER_KEY_EVENT_KIND_") for e in events]
    assert kinds == ["DELETED", "VALIDATED", "USED", "REPLACED", "CREATED"]
    assert {e["actor"] for e in events} == {"user", "tripsage"}
    assert GOOD_DUFFEL not in first.text + rest.text


async def test_other_users_never_see_a_key(
    suite: RunningSuite, http: httpx.AsyncClient, ana: Account
) -> None:
    await http.put(_path("openai"), json={"apiKey": OPENAI_KEY}, headers=ana.headers)
    bob = await register(suite.address("auth"), "bob")
    listed = await http.get("/api/v1/users/me/provider-keys", headers=bob.headers)
    assert listed.json().get("providerKeys", []) == []
    assert (
        await http.post(_path("openai", ":validate"), json={}, headers=bob.headers)
    ).status_code == 404
    resolve = await http.post(
        "/api/v1/auth/provider-keys:resolve",
        json={"userId": ana.id, "service": "PROVIDER_SERVICE_OPENAI"},
        headers=bob.headers,
    )
    assert resolve.status_code == 403


async def test_no_key_ever_reached_a_log(captured_logs: _Capture) -> None:
    """Runs last: every record this module's services, gateway and helpers logged."""
    assert len(captured_logs.lines) > 20  # the capture really saw the run
    text = "\n".join(captured_logs.lines)
    for key in KNOWN_KEYS:
        assert key not in text
