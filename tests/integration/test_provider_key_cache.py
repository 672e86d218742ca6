"""AuthServiceKeys against the real auth service: a user's provider key is asked once per
PROVIDER_KEY_CACHE_SECONDS, and a stored or deleted key takes effect after it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from tests.support.accounts import Account, register
from tests.support.auth_suite import start_suite
from tests.support.suite import RunningSuite
from tripsage_core.grpc_kit.auth_calls import AuthServiceKeys

pytestmark = pytest.mark.database

KEY = "duffel_test_CACHEcacheCACHEcache123456789"
PATH = "/api/v1/users/me/provider-keys/PROVIDER_SERVICE_DUFFEL"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def suite(
    database_dsn: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningSuite]:
    running = await start_suite(
        database_dsn, redis_url, tmp_path_factory.mktemp("data"), provider_key_cache_seconds=10
    )
    yield running
    await running.stop()


async def uses(http: httpx.AsyncClient, account: Account) -> int:
    """How many times a service fetched the key (auth audits each ResolveProviderKey)."""
    events = await http.get(f"{PATH}/events", params={"pageSize": 50}, headers=account.headers)
    assert events.status_code == 200, events.text
    return sum(e["kind"] == "PROVIDER_KEY_EVENT_KIND_USED" for e in events.json()["events"])


async def test_a_key_is_fetched_once_per_window_and_changes_take_effect_after_it(
    suite: RunningSuite, http: httpx.AsyncClient
) -> None:
    ana = await register(suite.address("auth"), "ana")
    now = [100.0]
    keys = AuthServiceKeys(suite.settings, clock=lambda: now[0])

    assert await keys.user_key(ana.id, "duffel") is None
    stored = await http.put(PATH, json={"apiKey": KEY}, headers=ana.headers)
    assert stored.status_code == 200, stored.text
    now[0] += 9.9  # "no key" is remembered too, for the window
    assert await keys.user_key(ana.id, "duffel") is None
    now[0] += 0.2
    assert await keys.user_key(ana.id, "duffel") == KEY
    for _ in range(5):
        assert await keys.user_key(ana.id, "duffel") == KEY
    assert await uses(http, ana) == 1  # six answers, one fetch

    deleted = await http.delete(PATH, headers=ana.headers)
    assert deleted.status_code == 200, deleted.text
    assert await keys.user_key(ana.id, "duffel") == KEY  # the documented staleness
    now[0] += 10
    assert await keys.user_key(ana.id, "duffel") is None


async def test_each_user_and_provider_is_remembered_apart(
    suite: RunningSuite, http: httpx.AsyncClient
) -> None:
    ana = await register(suite.address("auth"), "ana2")
    bob = await register(suite.address("auth"), "bob2")
    stored = await http.put(PATH, json={"apiKey": KEY}, headers=ana.headers)
    assert stored.status_code == 200, stored.text
    keys = AuthServiceKeys(suite.settings)
    assert await keys.user_key(ana.id, "duffel") == KEY
    assert await keys.user_key(bob.id, "duffel") is None
    assert await keys.user_key(ana.id, "google_maps") is None


async def test_a_window_of_zero_asks_every_time(
    suite: RunningSuite, http: httpx.AsyncClient
) -> None:
    ana = await register(suite.address("auth"), "ana3")
    keys = AuthServiceKeys(suite.settings.model_copy(update={"provider_key_cache_seconds": 0}))
    assert await keys.user_key(ana.id, "duffel") is None
    stored = await http.put(PATH, json={"apiKey": KEY}, headers=ana.headers)
    assert stored.status_code == 200, stored.text
    assert await keys.user_key(ana.id, "duffel") == KEY
