"""What a password reset and a password change leave of an account's credentials.

A reset is the recovery path after a takeover: every session and every API key
ends, on every service at once. A change ends the other sessions, and the API
keys only when asked. Through the gateway, with the trips service checking keys.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import pytest_asyncio

from services.auth.store import UserStore
from tests.support.accounts import PASSWORD, Account, register
from tests.support.auth_suite import start_suite
from tests.support.suite import RunningSuite
from tripsage_core.database import Database

pytestmark = pytest.mark.database

NEW_PASSWORD = "a completely different passphrase"


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
async def ana(suite: RunningSuite) -> Account:
    return await register(suite.address("auth"), "ana")


async def _api_key(http: httpx.AsyncClient, owner: Account) -> str:
    created = await http.post("/api/v1/api-keys", json={"name": "robot"}, headers=owner.headers)
    assert created.status_code == 201, created.text
    secret = str(created.json()["secret"])
    # Used once, so the trips service has it resolved and cached.
    assert (await http.get("/api/v1/trips", headers={"x-api-key": secret})).status_code == 200
    return secret


async def _sign_in(http: httpx.AsyncClient, account: Account, password: str) -> dict[str, str]:
    reply = await http.post(
        "/api/v1/auth/login", json={"email": account.email, "password": password}
    )
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


async def _refresh(http: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    return await http.post("/api/v1/auth/refresh", json={"refreshToken": refresh_token})


async def _reset_link_token(database_dsn: str, account: Account) -> str:
    """A reset token as RequestPasswordReset stores it (its delivery is the notifier's
    business, tested with the notifier)."""
    db = Database(database_dsn, max_size=1)
    await db.connect()
    try:
        token = secrets.token_urlsafe(32)
        await UserStore(db).create_password_reset(
            account.id, token, datetime.now(UTC) + timedelta(minutes=5)
        )
    finally:
        await db.close()
    return token


async def test_a_reset_ends_every_session_and_api_key_of_the_account(
    http: httpx.AsyncClient, ana: Account, database_dsn: str
) -> None:
    intruder_key = await _api_key(http, ana)
    intruder = await _sign_in(http, ana, PASSWORD)
    token = await _reset_link_token(database_dsn, ana)

    reset = await http.post(
        "/api/v1/auth/password:reset", json={"resetToken": token, "newPassword": NEW_PASSWORD}
    )
    assert reset.status_code == 200, reset.text

    for path in ("/api/v1/trips", "/api/v1/api-keys"):
        refused = await http.get(path, headers={"x-api-key": intruder_key})
        assert refused.status_code == 401, (path, refused.text)
    for session in (ana.refresh_token, intruder["refreshToken"]):
        assert (await _refresh(http, session)).status_code == 401
    owner = {"authorization": f"Bearer {(await _sign_in(http, ana, NEW_PASSWORD))['accessToken']}"}
    keys = await http.get("/api/v1/api-keys", params={"includeRevoked": "true"}, headers=owner)
    assert [bool(k.get("revokeTime")) for k in keys.json()["apiKeys"]] == [True]


async def test_a_change_ends_the_other_sessions_and_keeps_keys_unless_asked(
    http: httpx.AsyncClient, ana: Account
) -> None:
    key = await _api_key(http, ana)
    other = await _sign_in(http, ana, PASSWORD)

    changed = await http.post(
        "/api/v1/auth/password:change",
        json={"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD},
        headers=ana.headers,
    )
    assert changed.status_code == 200, changed.text

    assert (await _refresh(http, other["refreshToken"])).status_code == 401
    own = await _refresh(http, ana.refresh_token)
    assert own.status_code == 200, own.text
    assert (await http.get("/api/v1/trips", headers={"x-api-key": key})).status_code == 200


async def test_a_change_can_revoke_every_api_key_too(http: httpx.AsyncClient, ana: Account) -> None:
    key = await _api_key(http, ana)

    changed = await http.post(
        "/api/v1/auth/password:change",
        json={"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD, "revokeApiKeys": True},
        headers=ana.headers,
    )
    assert changed.status_code == 200, changed.text

    assert (await http.get("/api/v1/trips", headers={"x-api-key": key})).status_code == 401
    assert (await http.get("/api/v1/users/me", headers=ana.headers)).status_code == 200
