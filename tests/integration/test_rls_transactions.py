"""user_transaction sends BEGIN, the role and the settings as literals in one round trip
(tripsage_core/database.py): any value arrives as itself, never as SQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from services.trips.app import MIGRATIONS
from services.trips.store import CALLER_ROLE
from tripsage_core.database import create_pool, user_transaction
from tripsage_core.migrations import migrate

pytestmark = pytest.mark.database

AWKWARD = [
    "o'brien@example.com",
    "back\\slash\\'@example.com",
    "'); DROP TABLE tripsage_trips.trips; --",
    "E'\\x41' $$ $q$ \" ; COMMIT; SET ROLE postgres",
    "ünïcödé 東京 🚆",
    "",
]


@pytest.fixture(scope="module")
async def pool(database_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    await migrate(database_dsn, "trips", MIGRATIONS)
    pool = await create_pool(database_dsn, max_size=2)
    yield pool
    await pool.close()


@pytest.mark.parametrize("value", AWKWARD)
async def test_settings_arrive_verbatim_under_the_caller_role(
    pool: asyncpg.Pool, value: str
) -> None:
    user = str(uuid.uuid4())
    async with user_transaction(pool, CALLER_ROLE, user, {"app.user_email": value}) as conn:
        row = await conn.fetchrow(
            "SELECT current_user, current_setting('app.user_id') AS user_id,"
            " current_setting('app.user_email') AS email"
        )
    assert row is not None
    assert (row["current_user"], row["user_id"], row["email"]) == (CALLER_ROLE, user, value)
    # The trips table survived the value that tried to drop it.
    assert await pool.fetchval("SELECT count(*) >= 0 FROM tripsage_trips.trips")


async def test_settings_end_with_the_transaction_and_failures_roll_back(
    pool: asyncpg.Pool,
) -> None:
    owner = str(uuid.uuid4())

    async def failing_use_case() -> None:
        async with user_transaction(pool, CALLER_ROLE, owner) as conn:
            await conn.execute(
                "INSERT INTO tripsage_trips.trips (id, owner_id, title) VALUES ($1, $2, 'gone')",
                uuid.uuid4(),
                uuid.UUID(owner),
            )
            raise RuntimeError("the use case failed")

    with pytest.raises(RuntimeError):
        await failing_use_case()
    # Every pooled connection is back to the owner, with no caller and no open transaction.
    for _ in range(3):
        async with pool.acquire() as conn:
            assert not conn.is_in_transaction()
            row = await conn.fetchrow(
                "SELECT current_user = session_user AS own,"
                " coalesce(current_setting('app.user_id', true), '') AS user_id"
            )
            assert row is not None
            assert row["own"]
            assert row["user_id"] == ""
    count = await pool.fetchval(
        "SELECT count(*) FROM tripsage_trips.trips WHERE owner_id = $1", uuid.UUID(owner)
    )
    assert count == 0


async def test_a_nul_in_a_setting_is_refused_before_reaching_postgres(pool: asyncpg.Pool) -> None:
    async def begin() -> None:
        async with user_transaction(pool, CALLER_ROLE, str(uuid.uuid4()), {"app.x": "a\x00b"}):
            pass

    with pytest.raises(ValueError, match="NUL"):
        await begin()


async def test_a_failed_start_leaves_the_connection_clean(pool: asyncpg.Pool) -> None:
    async def begin_as_nobody() -> None:
        async with user_transaction(pool, "tripsage_no_such_role", str(uuid.uuid4())):
            pass

    with pytest.raises(asyncpg.PostgresError):
        await begin_as_nobody()
    for _ in range(3):
        async with pool.acquire() as conn:
            assert not conn.is_in_transaction()
            assert await conn.fetchval("SELECT current_user = session_user")
