"""Security events: their own record type (tripsage_core/security_events.py), written by
the real services for what an operator must be able to audit, without any secret."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from tests.support.accounts import PASSWORD, register
from tests.support.auth_suite import start_suite
from tests.support.suite import RunningSuite

pytestmark = pytest.mark.database

NEW_PASSWORD = "a whole new passphrase 42"
OPENAI_KEY = "sk-test-security-events-0123456789"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def suite(
    database_dsn: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningSuite]:
    running = await start_suite(
        database_dsn,
        redis_url,
        tmp_path_factory.mktemp("data"),
        ("auth", "trips"),
        login_max_failures_per_account=2,
    )
    yield running
    await running.stop()


def _events(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if getattr(r, "event_type", None) == "security"]


async def test_account_and_key_changes_and_refusals_are_security_events(
    suite: RunningSuite, http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tripsage.security")
    ana = await register(suite.address("auth"), "ana")
    bob = await register(suite.address("auth"), "bob")
    for _ in range(3):  # two wrong guesses, then the account is throttled
        await http.post("/api/v1/auth/login", json={"email": bob.email, "password": "wrong!!"})
    changed = await http.post(
        "/api/v1/auth/password:change",
        json={"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD},
        headers=ana.headers,
    )
    assert changed.is_success, changed.text
    signed_in = await http.post(
        "/api/v1/auth/login", json={"email": ana.email, "password": NEW_PASSWORD}
    )
    assert signed_in.is_success, signed_in.text
    headers = {"authorization": f"Bearer {signed_in.json()['accessToken']}"}
    key = await http.post("/api/v1/api-keys", json={"name": "ci"}, headers=headers)
    assert key.is_success, key.text
    stored = await http.put(
        "/api/v1/users/me/provider-keys/PROVIDER_SERVICE_OPENAI",
        json={"apiKey": OPENAI_KEY},
        headers=headers,
    )
    assert stored.is_success, stored.text
    denied = await http.post("/api/v1/users:lookup", json={"emails": [ana.email]}, headers=headers)
    assert denied.status_code == 403

    events = _events(caplog)
    actions = [(r.action, r.outcome) for r in events]  # type: ignore[attr-defined]
    for expected in [
        ("sign_in_failed", "denied"),
        ("sign_in_throttled", "throttled"),
        ("password_changed", "success"),
        ("api_key_created", "success"),
        ("provider_key_created", "success"),
        ("permission_denied", "denied"),
    ]:
        assert expected in actions, actions
    assert all(r.name == "tripsage.security" for r in events)
    assert all(r.levelno == logging.WARNING for r in events if r.outcome != "success")  # type: ignore[attr-defined]
    secrets = [PASSWORD, NEW_PASSWORD, OPENAI_KEY, key.json()["secret"], ana.access_token]
    for record in events:
        text = record.getMessage() + " " + " ".join(map(str, record.__dict__.values()))
        assert not any(secret in text for secret in secrets)
