"""The assistant's row level security, in the database: raw SQL as one user, without any
WHERE, reaches none of another's conversations, messages or memories; a trip grant opens
that trip's conversations and nothing else, for reading with 'view', writing with 'edit'."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from services.assistant.app import MIGRATIONS
from services.assistant.model import MemoryCategory, TripAccess
from services.assistant.store import AssistantStore, TripGrant
from tripsage_core.database import Database
from tripsage_core.migrations import migrate

pytestmark = pytest.mark.database

TABLES = ("conversations", "messages", "memories", "idempotency_keys", "daily_usage")


@pytest.fixture(scope="module")
async def store(database_dsn: str) -> AsyncIterator[AssistantStore]:
    await migrate(database_dsn, "assistant", MIGRATIONS)
    db = Database(database_dsn)
    await db.connect()
    yield AssistantStore(db)
    await db.close()


async def _count(
    store: AssistantStore, user: str, table: str, grant: TripGrant | None = None
) -> int:
    async with store.unit(user, grant) as uow:
        return int(await uow.conn.fetchval(f"SELECT count(*) FROM tripsage_assistant.{table}"))


async def _seed(store: AssistantStore, user: str, trip: str | None = None) -> str:
    grant = TripGrant(trip, TripAccess.EDIT) if trip else None
    async with store.unit(user, grant) as uow:
        talk = await uow.insert_conversation("mine", trip, False)
        await uow.conn.execute(
            "INSERT INTO tripsage_assistant.messages (id, conversation_id, role, content)"
            " VALUES ($1, $2, 'user', 'hello')",
            uuid.uuid4(),
            uuid.UUID(talk.id),
        )
        await uow.insert_memory(f"{user} likes trains", MemoryCategory.PREFERENCE, None)
        await uow.conn.execute(
            "INSERT INTO tripsage_assistant.idempotency_keys (caller_id, method, key, request_hash)"
            " VALUES ($1, 'CreateConversation', $2, 'h')",
            uuid.UUID(user),
            talk.id,
        )
        await uow.count_message_today()
    return talk.id


async def test_no_table_leaks_one_users_rows_to_another(store: AssistantStore) -> None:
    ana, ben = str(uuid.uuid4()), str(uuid.uuid4())
    await _seed(store, ana)
    for table in TABLES:
        assert await _count(store, ana, table) >= 1, table
        assert await _count(store, ben, table) == 0, table
    async with store.unit(ben) as uow:
        changed = await uow.conn.execute("UPDATE tripsage_assistant.conversations SET title = 'x'")
        deleted = await uow.conn.execute("DELETE FROM tripsage_assistant.memories")
    assert changed == "UPDATE 0"
    assert deleted == "DELETE 0"


async def test_nobody_writes_in_another_users_name(store: AssistantStore) -> None:
    ana, ben = str(uuid.uuid4()), str(uuid.uuid4())
    for sql in (
        "INSERT INTO tripsage_assistant.conversations (id, owner_id) VALUES ($1, $2)",
        "INSERT INTO tripsage_assistant.memories (id, user_id, content, category)"
        " VALUES ($1, $2, 'x', 'fact')",
        "INSERT INTO tripsage_assistant.daily_usage (user_id, day)"
        " SELECT $2, current_date WHERE $1::uuid IS NOT NULL",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            async with store.unit(ben) as uow:
                await uow.conn.execute(sql, uuid.uuid4(), uuid.UUID(ana))


async def test_a_trip_grant_opens_that_trip_only_and_view_cannot_write(
    store: AssistantStore,
) -> None:
    ana, ben = str(uuid.uuid4()), str(uuid.uuid4())
    trip, other_trip = str(uuid.uuid4()), str(uuid.uuid4())
    shared = await _seed(store, ana, trip)
    await _seed(store, ana, other_trip)
    await _seed(store, ana)  # not about a trip
    viewing = TripGrant(trip, TripAccess.VIEW)
    async with store.unit(ben, viewing) as uow:
        rows = await uow.conn.fetch("SELECT id FROM tripsage_assistant.conversations")
        assert [str(r["id"]) for r in rows] == [shared]
        assert await uow.conn.fetchval("SELECT count(*) FROM tripsage_assistant.messages") == 1
        assert await uow.conn.fetchval("SELECT count(*) FROM tripsage_assistant.memories") == 0
    insert = (
        "INSERT INTO tripsage_assistant.messages (id, conversation_id, role, content)"
        " VALUES ($1, $2, 'user', 'hi')"
    )
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with store.unit(ben, viewing) as uow:
            await uow.conn.execute(insert, uuid.uuid4(), uuid.UUID(shared))
    async with store.unit(ben, TripGrant(trip, TripAccess.EDIT)) as uow:
        await uow.conn.execute(insert, uuid.uuid4(), uuid.UUID(shared))
        # Editors may add to the trip's conversation but not delete it: only its owner.
        assert await uow.delete_conversation(uuid.UUID(shared)) is False
    assert await _count(store, ana, "messages", TripGrant(trip, TripAccess.EDIT)) >= 3
