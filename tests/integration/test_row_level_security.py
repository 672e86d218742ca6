"""Row level security is in the database: a query without any WHERE still cannot leak."""

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

ANA = str(uuid.uuid4())
BEN = str(uuid.uuid4())
CARLA = str(uuid.uuid4())


@pytest.fixture(scope="module")
async def pool(database_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    await migrate(database_dsn, "trips", MIGRATIONS)
    pool = await create_pool(database_dsn)
    yield pool
    await pool.close()


async def _insert_trip(pool: asyncpg.Pool, owner: str, title: str) -> uuid.UUID:
    trip_id = uuid.uuid4()
    async with user_transaction(pool, CALLER_ROLE, owner) as conn:
        await conn.execute(
            "INSERT INTO tripsage_trips.trips (id, owner_id, title) VALUES ($1, $2, $3)",
            trip_id,
            uuid.UUID(owner),
            title,
        )
    return trip_id


async def _visible_titles(pool: asyncpg.Pool, user: str) -> set[str]:
    async with user_transaction(pool, CALLER_ROLE, user) as conn:
        rows = await conn.fetch("SELECT title FROM tripsage_trips.trips")  # no WHERE on purpose
    return {row["title"] for row in rows}


async def test_a_raw_query_under_b_returns_none_of_a_rows(pool: asyncpg.Pool) -> None:
    await _insert_trip(pool, ANA, "Ana's Lisbon")
    assert "Ana's Lisbon" in await _visible_titles(pool, ANA)
    assert "Ana's Lisbon" not in await _visible_titles(pool, BEN)
    # With no caller at all, nothing is visible.
    async with user_transaction(pool, CALLER_ROLE, "") as conn:
        assert await conn.fetchval("SELECT count(*) FROM tripsage_trips.trips") == 0


async def test_b_cannot_change_or_delete_a_rows(pool: asyncpg.Pool) -> None:
    trip_id = await _insert_trip(pool, ANA, "Ana's Kyoto")
    async with user_transaction(pool, CALLER_ROLE, BEN) as conn:
        assert await conn.execute("UPDATE tripsage_trips.trips SET title = 'mine'") == "UPDATE 0"
        assert await conn.execute("DELETE FROM tripsage_trips.trips") == "DELETE 0"
    async with user_transaction(pool, CALLER_ROLE, ANA) as conn:
        title = await conn.fetchval("SELECT title FROM tripsage_trips.trips WHERE id = $1", trip_id)
    assert title == "Ana's Kyoto"


async def test_b_cannot_create_rows_in_a_name(pool: asyncpg.Pool) -> None:
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with user_transaction(pool, CALLER_ROLE, BEN) as conn:
            await conn.execute(
                "INSERT INTO tripsage_trips.trips (id, owner_id, title) VALUES ($1, $2, 'forged')",
                uuid.uuid4(),
                uuid.UUID(ANA),
            )


async def test_collaborators_see_exactly_what_their_role_allows(pool: asyncpg.Pool) -> None:
    trip_id = await _insert_trip(pool, ANA, "Shared Oslo")
    # B cannot add themselves to A's trip.
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with user_transaction(pool, CALLER_ROLE, BEN) as conn:
            await conn.execute(
                "INSERT INTO tripsage_trips.collaborators (trip_id, user_id, role, added_by)"
                " VALUES ($1, $2, 'admin', $2)",
                trip_id,
                uuid.UUID(BEN),
            )
    async with user_transaction(pool, CALLER_ROLE, ANA) as conn:
        await conn.execute(
            "INSERT INTO tripsage_trips.collaborators (trip_id, user_id, role, added_by)"
            " VALUES ($1, $2, 'view', $3)",
            trip_id,
            uuid.UUID(BEN),
            uuid.UUID(ANA),
        )
    assert "Shared Oslo" in await _visible_titles(pool, BEN)
    assert "Shared Oslo" not in await _visible_titles(pool, CARLA)
    async with user_transaction(pool, CALLER_ROLE, BEN) as conn:
        # A viewer cannot edit, delete, or promote themselves.
        assert (
            await conn.execute(
                "UPDATE tripsage_trips.trips SET title = 'edited' WHERE id = $1", trip_id
            )
            == "UPDATE 0"
        )
        assert (
            await conn.execute(
                "UPDATE tripsage_trips.collaborators SET role = 'admin' WHERE trip_id = $1", trip_id
            )
            == "UPDATE 0"
        )
    async with user_transaction(pool, CALLER_ROLE, ANA) as conn:
        await conn.execute(
            "UPDATE tripsage_trips.collaborators SET role = 'edit' WHERE trip_id = $1", trip_id
        )
    async with user_transaction(pool, CALLER_ROLE, BEN) as conn:
        assert (
            await conn.execute(
                "UPDATE tripsage_trips.trips SET title = 'edited' WHERE id = $1", trip_id
            )
            == "UPDATE 1"
        )
        assert await conn.execute("DELETE FROM tripsage_trips.trips WHERE id = $1", trip_id) == (
            "DELETE 0"
        )
        # Anyone may leave a trip.
        assert (
            await conn.execute(
                "DELETE FROM tripsage_trips.collaborators WHERE trip_id = $1 AND user_id = $2",
                trip_id,
                uuid.UUID(BEN),
            )
            == "DELETE 1"
        )
    assert "edited" not in await _visible_titles(pool, BEN)
