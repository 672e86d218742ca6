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


async def _as(
    pool: asyncpg.Pool, user: str, sql: str, *args: object, email: str = "", verified: bool = True
) -> object:
    async with user_transaction(pool, CALLER_ROLE, user) as conn:
        await conn.execute(
            "SELECT set_config('app.user_email', $1, true),"
            " set_config('app.email_verified', $2, true)",
            email,
            "true" if verified else "false",
        )
        return await conn.fetch(sql, *args)


async def _seed_everything(
    pool: asyncpg.Pool, owner: str, invitee: str = "someone@example.com"
) -> uuid.UUID:
    """A trip of `owner` with an item, an activity entry, a collaborator, an invitation
    and an idempotency key, each written under the owner's own identity."""
    trip_id = await _insert_trip(pool, owner, "Everything")
    async with user_transaction(pool, CALLER_ROLE, owner) as conn:
        await conn.execute(
            "INSERT INTO tripsage_trips.itinerary_items (id, trip_id, kind, title, created_by)"
            " VALUES ($1, $2, 'activity', 'secret museum', $3)",
            uuid.uuid4(), trip_id, uuid.UUID(owner),
        )  # fmt: skip
        await conn.execute(
            "INSERT INTO tripsage_trips.trip_activity (trip_id, actor_id, kind, summary)"
            " VALUES ($1, $2, 'trip_created', 'secret')",
            trip_id, uuid.UUID(owner),
        )  # fmt: skip
        await conn.execute(
            "INSERT INTO tripsage_trips.collaborators (trip_id, user_id, role, added_by)"
            " VALUES ($1, $2, 'view', $3)",
            trip_id, uuid.UUID(CARLA), uuid.UUID(owner),
        )  # fmt: skip
        await conn.execute(
            "INSERT INTO tripsage_trips.collaborators (trip_id, email, role, added_by, state)"
            " VALUES ($1, $2, 'edit', $3, 'pending')",
            trip_id, invitee, uuid.UUID(owner),
        )  # fmt: skip
        await conn.execute(
            "INSERT INTO tripsage_trips.idempotency_keys (caller_id, method, key, request_hash)"
            " VALUES ($1, 'CreateTrip', $2, 'h')",
            uuid.UUID(owner), str(trip_id),
        )  # fmt: skip
    return trip_id


TABLES = ("trips", "itinerary_items", "trip_activity", "collaborators", "idempotency_keys")


async def test_no_table_leaks_a_rows_to_b_without_any_where(pool: asyncpg.Pool) -> None:
    owner = str(uuid.uuid4())
    await _seed_everything(pool, owner)
    for table in TABLES:
        mine = await _as(pool, owner, f"SELECT * FROM tripsage_trips.{table}")
        assert mine, table
        # B, and a transaction with no identity at all, see none of them.
        for someone in (BEN, ""):
            rows = await _as(pool, someone, f"SELECT * FROM tripsage_trips.{table}")
            assert rows == [], (table, someone)  # B holds no trip of their own here
        # Nor may B delete them (the log is append-only: no one may delete from it).
        if table == "trip_activity":
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                async with user_transaction(pool, CALLER_ROLE, BEN) as conn:
                    await conn.execute(f"DELETE FROM tripsage_trips.{table}")
            continue
        async with user_transaction(pool, CALLER_ROLE, BEN) as conn:
            assert await conn.execute(f"DELETE FROM tripsage_trips.{table}") == "DELETE 0"


async def test_a_viewer_reads_items_but_cannot_write_them_or_the_log(pool: asyncpg.Pool) -> None:
    owner = str(uuid.uuid4())
    trip_id = await _seed_everything(pool, owner)  # CARLA views it
    items = await _as(pool, CARLA, "SELECT title FROM tripsage_trips.itinerary_items"
                      " WHERE trip_id = $1", trip_id)  # fmt: skip
    assert [r["title"] for r in items] == ["secret museum"]  # type: ignore[attr-defined,index]
    async with user_transaction(pool, CALLER_ROLE, CARLA) as conn:
        assert (
            await conn.execute(
                "UPDATE tripsage_trips.itinerary_items SET title = 'x' WHERE trip_id = $1", trip_id
            )
            == "UPDATE 0"
        )
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with user_transaction(pool, CALLER_ROLE, CARLA) as conn:
            await conn.execute(
                "INSERT INTO tripsage_trips.itinerary_items (id, trip_id, kind, title, created_by)"
                " VALUES ($1, $2, 'note', 'x', $3)",
                uuid.uuid4(), trip_id, uuid.UUID(CARLA),
            )  # fmt: skip
    # The log is append-only, even for the owner.
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with user_transaction(pool, CALLER_ROLE, owner) as conn:
            await conn.execute("DELETE FROM tripsage_trips.trip_activity")


async def test_an_editor_cannot_take_the_trip_or_rewrite_membership(pool: asyncpg.Pool) -> None:
    owner = str(uuid.uuid4())
    trip_id = await _seed_everything(pool, owner)
    async with user_transaction(pool, CALLER_ROLE, owner) as conn:
        await conn.execute(
            "UPDATE tripsage_trips.collaborators SET role = 'edit' WHERE user_id = $1",
            uuid.UUID(CARLA),
        )
    for sql in (
        "UPDATE tripsage_trips.trips SET owner_id = $2 WHERE id = $1",
        "UPDATE tripsage_trips.collaborators SET user_id = $2 WHERE trip_id = $1",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            async with user_transaction(pool, CALLER_ROLE, CARLA) as conn:
                await conn.execute(sql, trip_id, uuid.UUID(CARLA))
    async with user_transaction(pool, CALLER_ROLE, CARLA) as conn:
        outcome = await conn.fetchval(
            "SELECT tripsage_trips.transfer_ownership($1, $2, NULL)", trip_id, uuid.UUID(CARLA)
        )
    assert outcome == "not_owner"


async def test_only_the_invited_email_sees_and_accepts_an_invitation(pool: asyncpg.Pool) -> None:
    owner = str(uuid.uuid4())
    trip_id = await _seed_everything(pool, owner, "dora@example.com")
    dora = str(uuid.uuid4())
    listing = "SELECT trip_id FROM tripsage_trips.caller_invitations()"
    assert await _as(pool, BEN, listing, email="ben@example.com") == []
    assert [r["trip_id"] for r in await _as(pool, dora, listing, email="DORA@example.com")] == [  # type: ignore[attr-defined,index]
        trip_id
    ]
    # Pending rows grant nothing, and B cannot accept D's invitation.
    assert await _as(pool, dora, "SELECT * FROM tripsage_trips.trips", email="x@example.com") == []
    found = await _as(pool, dora, "SELECT id FROM tripsage_trips.caller_invitations()",
                      email="dora@example.com")  # fmt: skip
    invitation = found[0]  # type: ignore[index]
    accept = "SELECT tripsage_trips.accept_invitation($1) AS trip"
    taken = await _as(pool, BEN, accept, invitation["id"], email="ben@example.com")
    assert taken[0]["trip"] is None  # type: ignore[index]
    # The right address, unverified, neither sees nor accepts it.
    assert await _as(pool, dora, listing, email="dora@example.com", verified=False) == []
    unverified = await _as(pool, dora, accept, invitation["id"], email="dora@example.com",
                           verified=False)  # fmt: skip
    assert unverified[0]["trip"] is None  # type: ignore[index]
    accepted = await _as(pool, dora, accept, invitation["id"], email="dora@example.com")
    assert accepted[0]["trip"] == trip_id  # type: ignore[index]
    titles = await _as(pool, dora, "SELECT tripsage_trips.caller_access(id) AS access"
                       " FROM tripsage_trips.trips")  # fmt: skip
    assert [r["access"] for r in titles] == ["edit"]  # type: ignore[attr-defined,index]


async def test_only_owners_and_admins_change_visibility_even_in_raw_sql(pool: asyncpg.Pool) -> None:
    trip_id = await _insert_trip(pool, ANA, "Private Porto")
    async with user_transaction(pool, CALLER_ROLE, ANA) as conn:
        for user, role in ((BEN, "edit"), (CARLA, "admin")):
            await conn.execute(
                "INSERT INTO tripsage_trips.collaborators (trip_id, user_id, role, added_by)"
                " VALUES ($1, $2, $3, $4)",
                trip_id, uuid.UUID(user), role, uuid.UUID(ANA),
            )  # fmt: skip
    publish = "UPDATE tripsage_trips.trips SET visibility = 'public' WHERE id = $1"
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with user_transaction(pool, CALLER_ROLE, BEN) as conn:
            await conn.execute(publish, trip_id)
    async with user_transaction(pool, CALLER_ROLE, BEN) as conn:
        # The editor's other changes still go through.
        assert await conn.execute(
            "UPDATE tripsage_trips.trips SET title = 'Porto' WHERE id = $1", trip_id
        ) == "UPDATE 1"  # fmt: skip
    async with user_transaction(pool, CALLER_ROLE, CARLA) as conn:
        assert await conn.execute(publish, trip_id) == "UPDATE 1"
