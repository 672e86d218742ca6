"""The suite through a transaction-mode pooler (Debian's PgBouncer, as Supabase's on port
6543): with POSTGRES_STATEMENT_CACHE_SIZE=0 every flow works, with asyncpg's cache on it
fails the known prepared-statement way, and the migrations (transaction-scoped lock) run
through the pooler alone, racing, where the operators reference's extensions exist."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
import pytest_asyncio

from services.trips.app import build as build_trips
from services.trips.app import change_feed
from tests.support.accounts import Account, verified
from tests.support.fake_providers.suite import sandbox_overrides
from tests.support.pgbouncer import pgbouncer_problem, transaction_pooler
from tests.support.suite import RunningSuite, make_settings, wait_serving, whole_suite
from tests.support.watch import start_gateway, start_trips_replica, watching
from tripsage_core.database import create_pool, user_transaction, with_database
from tripsage_core.grpc_kit.server import GrpcService

pytestmark = [
    pytest.mark.database,
    pytest.mark.skipif(pgbouncer_problem() is not None, reason=str(pgbouncer_problem())),
]

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("auth", "trips", "assistant")  # the ones with migrations
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def pooled_dsn(database_dsn: str) -> Iterator[str]:
    # Two server connections for the suite's four pools of up to ten: clients share them.
    with transaction_pooler(database_dsn, server_connections=2) as url:
        yield url


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def suite(
    database_dsn: str, pooled_dsn: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningSuite]:
    """Supabase's recommended split: requests through the pooler with the statement cache
    off, migrations and WatchTrip's LISTEN on the direct URL."""
    settings = make_settings(
        pooled_dsn,
        redis_url,
        tmp_path_factory.mktemp("pooled"),
        postgres_direct_url=database_dsn,
        postgres_statement_cache_size=0,
        **sandbox_overrides(),
    )
    async with whole_suite(settings) as running:
        yield running


async def _signed_up(http: httpx.AsyncClient, suite: RunningSuite, name: str) -> Account:
    email = f"{name}-{uuid.uuid4().hex[:8]}@example.com"
    registered = await http.post(
        "/api/v1/auth/register", json={"email": email, "password": PASSWORD, "fullName": name}
    )
    assert registered.status_code == 200, registered.text
    login = await http.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    body = login.json()
    account = Account(body["user"]["id"], email, body["accessToken"], body["refreshToken"])
    return await verified(suite, account)  # only a verified address accepts invitations


async def test_accounts_trips_rls_and_collaborators_through_the_pooler(
    suite: RunningSuite, http: httpx.AsyncClient
) -> None:
    ana, bea, cy = await asyncio.gather(*(_signed_up(http, suite, n) for n in ("ana", "bea", "cy")))
    created = await http.post(
        "/api/v1/trips",
        headers=ana.headers,
        json={"title": "Lisbon", "startDate": "2027-05-01", "endDate": "2027-05-05"},
    )
    assert created.status_code == 201, created.text
    trip = created.json()["trip"]
    read = await http.get(f"/api/v1/trips/{trip['id']}", headers=ana.headers)
    assert read.status_code == 200
    assert read.json()["trip"]["title"] == "Lisbon"
    updated = await http.patch(
        f"/api/v1/trips/{trip['id']}",
        params={"updateMask": "title"},
        headers=ana.headers,
        json={"title": "Lisbon and Porto", "etag": read.json()["trip"]["etag"]},
    )
    assert updated.status_code == 200, updated.text
    # Row level security through the pooler: the others do not see it yet.
    for other in (bea, cy):
        hidden = await http.get(f"/api/v1/trips/{trip['id']}", headers=other.headers)
        assert hidden.status_code == 404, hidden.text
    invited = await http.post(
        f"/api/v1/trips/{trip['id']}/collaborators",
        headers=ana.headers,
        json={"email": bea.email, "role": "COLLABORATOR_ROLE_EDIT"},
    )
    assert invited.status_code == 200, invited.text
    accepted = await http.post(
        f"/api/v1/trip-invitations/{invited.json()['collaborator']['id']}:accept",
        headers=bea.headers,
        json={},
    )
    assert accepted.status_code == 200, accepted.text
    # Many reads at once on two server connections: the caller's id and role are the
    # transaction's own, so nobody ever sees another caller's rows.
    seen = await asyncio.gather(
        *(http.get("/api/v1/trips", headers=who.headers) for who in (ana, bea, cy) * 8)
    )
    titles = [sorted(t["title"] for t in r.json().get("trips", [])) for r in seen]
    assert all(r.status_code == 200 for r in seen)
    assert titles == [["Lisbon and Porto"], ["Lisbon and Porto"], []] * 8
    people = await http.get(f"/api/v1/trips/{trip['id']}/collaborators", headers=bea.headers)
    assert {c["email"] for c in people.json()["collaborators"]} >= {bea.email}


async def test_a_travel_search_and_an_assistant_conversation_through_the_pooler(
    suite: RunningSuite, http: httpx.AsyncClient
) -> None:
    ana = await _signed_up(http, suite, "ana")
    departure = (datetime.now(UTC).date() + timedelta(days=40)).isoformat()
    flights = await http.post(
        "/api/v1/flights:search",
        headers=ana.headers,
        json={"slices": [{"origin": "LIS", "destination": "FRA", "departureDate": departure}]},
    )
    assert flights.status_code == 200, flights.text
    assert flights.json()["offers"]
    made = await http.post("/api/v1/conversations", json={}, headers=ana.headers)
    assert made.status_code == 201, made.text
    conversation = made.json()["conversation"]["id"]
    said = await http.post(
        f"/api/v1/conversations/{conversation}/messages",
        json={"content": "weather in Seville"},
        headers=ana.headers,
    )
    assert said.status_code == 200, said.text
    assert said.json()["message"]["content"].startswith("Weather for")
    history = await http.get(f"/api/v1/conversations/{conversation}/messages", headers=ana.headers)
    assert history.status_code == 200, history.text
    messages = history.json()["messages"]
    assert messages[0]["content"] == "weather in Seville"
    assert messages[-1]["id"] == said.json()["message"]["id"]


async def test_watch_trip_listens_on_the_direct_url_and_polls_behind_the_pooler_alone(
    suite: RunningSuite, http: httpx.AsyncClient, database_dsn: str
) -> None:
    """A trips replica of the suite's settings LISTENs on POSTGRES_DIRECT_URL; one given only
    the pooler (no direct URL) does not LISTEN, and its watchers still get every change by
    reading the log."""
    ana = await _signed_up(http, suite, "ana")
    made = await http.post("/api/v1/trips", headers=ana.headers, json={"title": "Porto"})
    assert made.status_code == 201, made.text
    trip = made.json()["trip"]["id"]
    pooler_only = suite.settings.model_copy(update={"postgres_direct_url": None})
    async with AsyncExitStack() as stack:
        listening = await start_trips_replica(suite, stack)
        assert listening.feed.dsn == database_dsn
        feed = change_feed(pooler_only)
        assert feed.dsn is None
        stack.push_async_callback(feed.close)
        replica = GrpcService(await build_trips(pooler_only, feed=feed), grace_seconds=1)
        port = await replica.start(0, host="127.0.0.1")
        stack.push_async_callback(replica.stop)
        await wait_serving(f"127.0.0.1:{port}")
        clients = []
        for address in (listening.address, f"127.0.0.1:{port}"):
            url = await start_gateway(suite, stack, address)
            clients.append(await stack.enter_async_context(httpx.AsyncClient(base_url=url)))
        path = f"/api/v1/trips/{trip}:watch"
        async with (
            watching(clients[0], path, ana.headers) as live,
            watching(clients[1], path, ana.headers) as polled,
        ):
            assert (live.status, polled.status) == (200, 200)
            assert listening.feed.live  # its LISTEN connection is up
            assert not feed.live
            added = await http.post(
                f"/api/v1/trips/{trip}/items",
                json={"kind": "ITINERARY_ITEM_KIND_ACTIVITY", "title": "Livraria Lello"},
                headers=ana.headers,
            )
            assert added.status_code == 201, added.text
            for reader in (live, polled):
                event = await reader.next(timeout=10)
                assert event.data["kind"] == "TRIP_EVENT_KIND_CHANGED", event
                assert event.data["activity"]["kind"] == "TRIP_ACTIVITY_KIND_ITEM_ADDED"


async def test_with_the_statement_cache_on_the_pooler_breaks_prepared_statements(
    pooled_dsn: str, suite: RunningSuite
) -> None:
    """Why the setting exists: asyncpg's named statements live on one server connection,
    and the pooler runs a client's next statement on whichever one is free."""
    query = "SELECT count(*) FROM tripsage_trips.trips WHERE owner_id = $1::uuid"
    someone = str(uuid.uuid4())

    async def interleaved(cache: int) -> list[BaseException | None]:
        pool = await create_pool(pooled_dsn, min_size=2, max_size=2, statement_cache_size=cache)
        outcomes: list[BaseException | None] = []
        try:
            async with pool.acquire() as reader, pool.acquire() as other:
                for _ in range(3):
                    try:
                        # Prepared on server connection X, which goes back to the pooler...
                        assert await reader.fetchval(query, someone) == 0
                        async with other.transaction():
                            # ...that lends X (the last one freed) to this transaction,
                            await other.execute("SELECT 1")
                            # so the reader's next statement runs on the other one.
                            assert await reader.fetchval(query, someone) == 0
                        outcomes.append(None)
                    except asyncpg.PostgresError as exc:
                        outcomes.append(exc)
        finally:
            await pool.close()
        return outcomes

    cached = [exc for exc in await interleaved(100) if exc is not None]
    assert cached, "with the cache on, the pooler was expected to break a prepared statement"
    assert all(isinstance(exc, asyncpg.InvalidSQLStatementNameError) for exc in cached), cached
    assert "does not exist" in str(cached[0])
    assert "statement_cache_size to 0" in str(getattr(cached[0], "hint", ""))
    assert await interleaved(0) == [None, None, None]
    # The transactions the services run are unaffected by the cache setting either way.
    pool = await create_pool(pooled_dsn, max_size=2, statement_cache_size=0)
    try:
        async with user_transaction(pool, "tripsage_trips_caller", someone) as conn:
            assert await conn.fetchval("SELECT current_setting('app.user_id')") == someone
    finally:
        await pool.close()


async def test_migrations_race_through_the_pooler_alone_where_supabase_extensions_exist(
    postgres_admin_dsn: str,
) -> None:
    """No POSTGRES_DIRECT_URL: three replicas migrate every service at once through the
    pooler, on a database that already has the operators reference's extensions (as
    Supabase creates them, in schema `extensions`, which its search_path includes)."""
    from tripsage_core.migrations import migrate

    name = f"tripsage_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(postgres_admin_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        await admin.execute(
            f'ALTER DATABASE "{name}" SET search_path = "$user", public, extensions'
        )
    finally:
        await admin.close()
    dsn = with_database(postgres_admin_dsn, name)
    try:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute("CREATE SCHEMA extensions")
            available = {
                r["name"] for r in await conn.fetch("SELECT name FROM pg_available_extensions")
            }
            present = [
                e
                for e in ("vector", "uuid-ossp", "pg_stat_statements", "btree_gist", "pgcrypto")
                if e in available
            ]
            for extension in present:
                await conn.execute(f'CREATE EXTENSION "{extension}" WITH SCHEMA extensions')
        finally:
            await conn.close()
        with transaction_pooler(dsn, server_connections=2) as pooled:
            runs = await asyncio.gather(
                *(
                    migrate(pooled, service, ROOT / "services" / service / "migrations")
                    for service in SERVICES
                    for _ in range(3)
                )
            )
            again = [
                await migrate(pooled, s, ROOT / "services" / s / "migrations") for s in SERVICES
            ]
        applied = sorted(m for run in runs for m in run)
        expected = sorted(
            p.name for s in SERVICES for p in (ROOT / "services" / s / "migrations").glob("*.sql")
        )
        assert applied == expected  # each file once, whoever won the race
        assert again == [[], [], []]
        conn = await asyncpg.connect(dsn)
        try:
            extensions = {
                r["extname"] for r in await conn.fetch("SELECT extname FROM pg_extension")
            }
            # The migrations added none of their own besides what was there (vector included).
            assert extensions == {"plpgsql", *present}
            if "vector" in present:
                schema = await conn.fetchval(
                    "SELECT t.typnamespace::regnamespace::text FROM pg_attribute a"
                    " JOIN pg_type t ON t.oid = a.atttypid"
                    " WHERE a.attrelid = 'tripsage_assistant.memories'::regclass"
                    " AND a.attname = 'embedding'"
                )
                assert schema == "extensions"  # Supabase's vector, not a second copy
            # No session lock was left behind on any server connection.
            assert (
                await conn.fetchval("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
                == 0
            )
        finally:
            await conn.close()
    finally:
        admin = await asyncpg.connect(postgres_admin_dsn)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
