"""Email verification (issue 8 item 9, auth side): a link through the notifier at
registration and on request; tokens single use and expiring; `emailVerified` on the
user and in access tokens issued afterwards. Through the gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import jwt
import pytest
import pytest_asyncio

from tests.support.accounts import Account, register, verified
from tests.support.auth_suite import start_suite
from tests.support.suite import RunningSuite

pytestmark = pytest.mark.database


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def suite(
    database_dsn: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningSuite]:
    running = await start_suite(
        database_dsn,
        redis_url,
        tmp_path_factory.mktemp("data"),
        email_verification_url="https://app.example.com/verify",
    )
    yield running
    await running.stop()


@pytest.fixture
async def ana(suite: RunningSuite) -> Account:
    return await register(suite.address("auth"), "ana")


def _verified_claim(token: str) -> bool:
    """Supabase's spelling: user_metadata.email_verified."""
    claims = jwt.decode(token, options={"verify_signature": False})
    return bool(claims.get("user_metadata", {}).get("email_verified"))


async def test_registration_sends_a_link_that_verifies_the_address_once(
    http: httpx.AsyncClient, suite: RunningSuite, ana: Account
) -> None:
    me = await http.get("/api/v1/users/me", headers=ana.headers)
    assert me.json()["user"].get("emailVerified", False) is False
    assert not _verified_claim(ana.access_token)
    (link,) = suite.outbox.links("email_verification", ana.email)
    assert link.startswith("https://app.example.com/verify?token=")
    token = suite.outbox.tokens("email_verification", ana.email)[0]
    reply = await http.post("/api/v1/auth/verify-email", json={"verificationToken": token})
    assert reply.status_code == 200, reply.text
    assert reply.json()["user"]["emailVerified"] is True
    again = await http.post("/api/v1/auth/verify-email", json={"verificationToken": token})
    assert again.status_code == 400
    assert "verification_token" in again.text
    # Tokens refreshed afterwards carry the flag.
    refreshed = await http.post("/api/v1/auth/refresh", json={"refreshToken": ana.refresh_token})
    assert refreshed.status_code == 200, refreshed.text
    assert _verified_claim(refreshed.json()["accessToken"])
    assert refreshed.json()["user"]["emailVerified"] is True


async def test_a_new_link_on_request_and_guessed_tokens_refused(
    http: httpx.AsyncClient, suite: RunningSuite, ana: Account
) -> None:
    anonymous = await http.post("/api/v1/auth/verify-email:request", json={})
    assert anonymous.status_code == 401
    reply = await http.post("/api/v1/auth/verify-email:request", json={}, headers=ana.headers)
    assert reply.status_code == 200, reply.text
    assert len(suite.outbox.links("email_verification", ana.email)) == 2
    guessed = await http.post("/api/v1/auth/verify-email", json={"verificationToken": "guess"})
    assert guessed.status_code == 400
    empty = await http.post("/api/v1/auth/verify-email", json={})
    assert empty.status_code == 400
    assert "verification_token" in empty.text


async def test_verified_follows_the_real_flow(
    http: httpx.AsyncClient, suite: RunningSuite, ana: Account
) -> None:
    checked = await verified(suite, ana)
    assert _verified_claim(checked.access_token)
    me = await http.get("/api/v1/users/me", headers=checked.headers)
    assert me.json()["user"]["emailVerified"] is True
    # Once verified, asking again sends nothing.
    sent = len(suite.outbox.sent)
    await http.post("/api/v1/auth/verify-email:request", json={}, headers=checked.headers)
    assert len(suite.outbox.sent) == sent
