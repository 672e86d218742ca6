"""PostgreSQL storage of conversations, messages and memories, under row level security.

Every query runs as the caller (migration 0002). A grant names the one trip the trips
service has vouched the caller may read or edit; the policies admit that trip's
conversations and nothing else of anyone else's.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from services.assistant.model import (
    Conversation,
    Memory,
    MemoryCategory,
    Message,
    MessageRole,
    MessageStatus,
    ToolApproval,
    TripAccess,
)
from tripsage_core.database import Database, user_transaction
from tripsage_core.rows import after_key, page_query, record_from_row

CALLER_ROLE = "tripsage_assistant_caller"
TRIP_SETTING = "app.trip_id"
TRIP_ACCESS_SETTING = "app.trip_access"

_CONVERSATION = """
    id, owner_id, trip_id, title, auto_approve, message_count, created_at, updated_at
"""
_MESSAGE = """
    id, conversation_id, seq, role, content, tool_calls, tool_result, status, usage, created_at
"""
_MEMORY = "id, user_id, content, category, conversation_id, created_at, updated_at"


@dataclass(frozen=True)
class TripGrant:
    """What the trips service said the caller may do with one trip."""

    trip_id: str
    access: TripAccess


def _conversation(row: asyncpg.Record) -> Conversation:
    return record_from_row(Conversation, row)


def _message(row: asyncpg.Record) -> Message:
    return record_from_row(
        Message, row, tool_calls=list(row["tool_calls"]), usage=dict(row["usage"])
    )


def _memory(row: asyncpg.Record) -> Memory:
    return record_from_row(Memory, row)


class AssistantUnit:
    """One transaction as the caller."""

    def __init__(self, conn: asyncpg.Connection[Any], caller_id: str) -> None:
        self.conn = conn
        self.caller_id = caller_id

    # Conversations

    async def trip_of(self, conversation_id: uuid.UUID) -> str | None:
        trip = await self.conn.fetchval(
            "SELECT tripsage_assistant.conversation_trip($1)", conversation_id
        )
        return str(trip) if trip else None

    async def insert_conversation(
        self, title: str, trip_id: str | None, auto_approve: bool
    ) -> Conversation:
        row = await self.conn.fetchrow(
            "INSERT INTO tripsage_assistant.conversations"
            " (id, owner_id, trip_id, title, auto_approve) VALUES ($1, $2, $3, $4, $5)"
            f" RETURNING {_CONVERSATION}",
            uuid.uuid4(),
            uuid.UUID(self.caller_id),
            uuid.UUID(trip_id) if trip_id else None,
            title,
            auto_approve,
        )
        assert row is not None
        return _conversation(row)

    async def conversation(
        self, conversation_id: uuid.UUID, *, for_update: bool = False
    ) -> Conversation | None:
        lock = " FOR UPDATE" if for_update else ""
        row = await self.conn.fetchrow(
            f"SELECT {_CONVERSATION} FROM tripsage_assistant.conversations WHERE id = $1{lock}",
            conversation_id,
        )
        return _conversation(row) if row else None

    async def conversation_page(
        self, *, trip_id: str | None, limit: int, after: tuple[datetime, str] | None
    ) -> list[Conversation]:
        """Most recently active first: the caller's own, or every one about `trip_id`."""
        where = "trip_id = $1" if trip_id else "owner_id = $1"
        owner_or_trip = uuid.UUID(trip_id or self.caller_id)
        args: list[Any] = [owner_or_trip]
        query = page_query(
            f"SELECT {_CONVERSATION} FROM tripsage_assistant.conversations",
            [where],
            args,
            after=after,
            limit=limit,
            sort="updated_at",
        )
        rows = await self.conn.fetch(query, *args)
        return [_conversation(r) for r in rows]

    async def update_conversation(
        self, conversation_id: uuid.UUID, *, title: str | None, auto_approve: bool | None
    ) -> Conversation | None:
        row = await self.conn.fetchrow(
            "UPDATE tripsage_assistant.conversations"
            " SET title = coalesce($2, title), auto_approve = coalesce($3, auto_approve),"
            " version = version + 1"
            f" WHERE id = $1 RETURNING {_CONVERSATION}",
            conversation_id,
            title,
            auto_approve,
        )
        return _conversation(row) if row else None

    async def delete_conversation(self, conversation_id: uuid.UUID) -> bool:
        deleted = await self.conn.fetchval(
            "DELETE FROM tripsage_assistant.conversations WHERE id = $1 RETURNING true",
            conversation_id,
        )
        return bool(deleted)

    # Messages

    async def message_page(
        self, conversation_id: uuid.UUID, *, limit: int, after: int | None
    ) -> list[Message]:
        rows = await self.conn.fetch(
            f"SELECT {_MESSAGE}"
            " FROM tripsage_assistant.messages WHERE conversation_id = $1 AND seq > $2"
            " ORDER BY seq LIMIT $3",
            conversation_id,
            after or 0,
            limit,
        )
        return [_message(r) for r in rows]

    async def insert_message(
        self,
        conversation_id: str,
        role: MessageRole,
        content: str,
        *,
        message_id: str | None = None,
        tool_calls: list[dict[str, Any]] | None = None,
        tool_result: dict[str, Any] | None = None,
        status: MessageStatus = MessageStatus.COMPLETE,
        usage: dict[str, int] | None = None,
    ) -> Message:
        """Adds a message and counts it on the conversation, which it also names after
        the first thing the user said if it has no title yet."""
        row = await self.conn.fetchrow(
            "INSERT INTO tripsage_assistant.messages (id, conversation_id, role, content,"
            " tool_calls, tool_result, status, usage, author_id)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            f" RETURNING {_MESSAGE}",
            uuid.UUID(message_id) if message_id else uuid.uuid4(),
            uuid.UUID(conversation_id),
            role.value,
            content,
            tool_calls or [],
            tool_result,
            status.value,
            usage or {},
            uuid.UUID(self.caller_id),
        )
        assert row is not None
        await self.conn.execute(
            "UPDATE tripsage_assistant.conversations SET message_count = message_count + 1,"
            " updated_at = now(),"
            " title = CASE WHEN title = '' AND $2 = 'user' THEN left($3, 80) ELSE title END"
            " WHERE id = $1",
            uuid.UUID(conversation_id),
            role.value,
            " ".join(content.split()),
        )
        return _message(row)

    # Approvals

    async def decide_pending(
        self, conversation_id: str, tool_call_id: str, decision: ToolApproval, error: str = ""
    ) -> Message | None:
        """Marks the call's pending tool message decided, or None when no such call waits
        (unknown, or decided already: the row lock lets only one decision through)."""
        row = await self.conn.fetchrow(
            "UPDATE tripsage_assistant.messages SET tool_result = tool_result"
            " || jsonb_build_object('approval', $3::text, 'error', $4::text)"
            " WHERE conversation_id = $1 AND role = 'tool'"
            " AND tool_result->>'tool_call_id' = $2 AND tool_result->>'approval' = 'pending'"
            f" RETURNING {_MESSAGE}",
            uuid.UUID(conversation_id),
            tool_call_id,
            decision.value,
            error,
        )
        return _message(row) if row else None

    async def record_tool_result(
        self, message_id: str, content: str, tool_result: dict[str, Any]
    ) -> Message:
        row = await self.conn.fetchrow(
            "UPDATE tripsage_assistant.messages SET content = $2, tool_result = $3"
            f" WHERE id = $1 RETURNING {_MESSAGE}",
            uuid.UUID(message_id),
            content,
            tool_result,
        )
        assert row is not None
        return _message(row)

    async def settle_if_decided(self, conversation_id: str) -> bool:
        """Once no call of the conversation waits, its messages awaiting approval are
        complete; True when nothing waits any more."""
        waiting = await self.conn.fetchval(
            "SELECT count(*) FROM tripsage_assistant.messages WHERE conversation_id = $1"
            " AND role = 'tool' AND tool_result->>'approval' = 'pending'",
            uuid.UUID(conversation_id),
        )
        if waiting:
            return False
        await self.conn.execute(
            "UPDATE tripsage_assistant.messages SET status = 'complete'"
            " WHERE conversation_id = $1 AND status = 'awaiting_approval'",
            uuid.UUID(conversation_id),
        )
        return True

    async def drop_pending(self, conversation_id: str, why: str) -> None:
        """A new user message leaves undecided changes behind: rejected, never run."""
        await self.conn.execute(
            "UPDATE tripsage_assistant.messages SET tool_result = tool_result"
            " || jsonb_build_object('approval', 'rejected', 'error', $2::text)"
            " WHERE conversation_id = $1 AND role = 'tool'"
            " AND tool_result->>'approval' = 'pending'",
            uuid.UUID(conversation_id),
            why,
        )
        await self.settle_if_decided(conversation_id)

    # Daily allowance

    async def count_message_today(self) -> tuple[int, int]:
        """Counts one more message of the caller's today (UTC); (messages, tokens) so far,
        this one included. The row lock orders concurrent turns of one user."""
        row = await self.conn.fetchrow(
            "INSERT INTO tripsage_assistant.daily_usage AS u (user_id, day, messages)"
            " VALUES ($1, (now() AT TIME ZONE 'UTC')::date, 1)"
            " ON CONFLICT (user_id, day) DO UPDATE SET messages = u.messages + 1"
            " RETURNING messages, tokens",
            uuid.UUID(self.caller_id),
        )
        assert row is not None
        return int(row["messages"]), int(row["tokens"])

    async def count_tokens_today(self, tokens: int) -> None:
        await self.conn.execute(
            "INSERT INTO tripsage_assistant.daily_usage AS u (user_id, day, tokens)"
            " VALUES ($1, (now() AT TIME ZONE 'UTC')::date, $2)"
            " ON CONFLICT (user_id, day) DO UPDATE SET tokens = u.tokens + $2",
            uuid.UUID(self.caller_id),
            tokens,
        )

    async def recent_messages(self, conversation_id: str, limit: int) -> list[Message]:
        """The last `limit` messages, oldest first."""
        rows = await self.conn.fetch(
            f"SELECT * FROM (SELECT {_MESSAGE} FROM tripsage_assistant.messages"
            " WHERE conversation_id = $1 ORDER BY seq DESC LIMIT $2) recent ORDER BY seq",
            uuid.UUID(conversation_id),
            limit,
        )
        return [_message(r) for r in rows]

    # Memories

    async def insert_memory(
        self, content: str, category: MemoryCategory, conversation_id: str | None
    ) -> Memory:
        """The stored memory; the same statement told again is the memory already kept."""
        row = await self.conn.fetchrow(
            "INSERT INTO tripsage_assistant.memories"
            " (id, user_id, content, category, conversation_id) VALUES ($1, $2, $3, $4, $5)"
            f" ON CONFLICT (user_id, lower(content)) DO NOTHING RETURNING {_MEMORY}",
            uuid.uuid4(),
            uuid.UUID(self.caller_id),
            content,
            category.value,
            uuid.UUID(conversation_id) if conversation_id else None,
        )
        if row is None:
            row = await self.conn.fetchrow(
                f"SELECT {_MEMORY} FROM tripsage_assistant.memories"
                " WHERE user_id = $1 AND lower(content) = lower($2)",
                uuid.UUID(self.caller_id),
                content,
            )
        assert row is not None
        return _memory(row)

    async def memory(self, memory_id: uuid.UUID) -> Memory | None:
        row = await self.conn.fetchrow(
            f"SELECT {_MEMORY} FROM tripsage_assistant.memories WHERE id = $1",
            memory_id,
        )
        return _memory(row) if row else None

    async def count_memories(self) -> int:
        return int(await self.conn.fetchval("SELECT count(*) FROM tripsage_assistant.memories"))

    async def memory_page(
        self,
        *,
        category: MemoryCategory | None,
        limit: int,
        after: tuple[datetime, str] | None,
    ) -> list[Memory]:
        """Newest first."""
        where = ["user_id = $1"]
        args: list[Any] = [uuid.UUID(self.caller_id)]
        if category is not None:
            args.append(category.value)
            where.append(f"category = ${len(args)}")
        query = page_query(
            f"SELECT {_MEMORY} FROM tripsage_assistant.memories",
            where,
            args,
            after=after,
            limit=limit,
        )
        rows = await self.conn.fetch(query, *args)
        return [_memory(r) for r in rows]

    async def search_memories(
        self,
        query: str,
        *,
        category: MemoryCategory | None,
        limit: int,
        after: tuple[float, str] | None,
    ) -> list[tuple[Memory, float]]:
        """Best match first (full-text rank, then id), with each memory's rank."""
        return await self._ranked(
            "ts_rank(search, websearch_to_tsquery('english', $2))",
            "::real",
            ["search @@ websearch_to_tsquery('english', $2)"],
            [query],
            category=category,
            limit=limit,
            after=after,
        )

    async def _ranked(
        self,
        score: str,
        cast: str,
        where: list[str],
        args: list[Any],
        *,
        category: MemoryCategory | None,
        limit: int,
        after: tuple[float, str] | None,
    ) -> list[tuple[Memory, float]]:
        """The caller's memories matching `where`, highest `score` first, then id; `args`
        are $2 onwards (the caller is $1, the limit comes after them)."""
        args = [uuid.UUID(self.caller_id), *args, limit]
        limit_at = len(args)
        where = ["user_id = $1", *where]
        if category is not None:
            args.append(category.value)
            where.append(f"category = ${len(args)}")
        if after is not None:
            where.append(after_key(args, after, score, cast=cast))
        rows = await self.conn.fetch(
            f"SELECT {_MEMORY}, {score} AS score FROM tripsage_assistant.memories"
            f" WHERE {' AND '.join(where)} ORDER BY score DESC, id DESC LIMIT ${limit_at}",
            *args,
        )
        return [(_memory(r), float(r["score"])) for r in rows]

    # Embeddings (migration 0005, where the database has pgvector)

    async def embeddings_supported(self) -> bool:
        return bool(
            await self.conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM information_schema.columns"
                " WHERE table_schema = 'tripsage_assistant' AND table_name = 'memories'"
                " AND column_name = 'embedding')"
            )
        )

    async def memories_without_embedding(self, model: str, limit: int) -> list[Memory]:
        rows = await self.conn.fetch(
            f"SELECT {_MEMORY} FROM tripsage_assistant.memories WHERE user_id = $1"
            " AND embedding_model IS DISTINCT FROM $2 ORDER BY created_at DESC LIMIT $3",
            uuid.UUID(self.caller_id),
            model,
            limit,
        )
        return [_memory(r) for r in rows]

    async def set_embedding(self, memory_id: str, vector: list[float], model: str) -> None:
        await self.conn.execute(
            "UPDATE tripsage_assistant.memories"
            " SET embedding = $2::text::vector, embedding_model = $3 WHERE id = $1",
            uuid.UUID(memory_id),
            _vector_text(vector),
            model,
        )

    async def nearest_memories(
        self,
        vector: list[float],
        model: str,
        *,
        category: MemoryCategory | None,
        limit: int,
        after: tuple[float, str] | None,
        min_similarity: float,
    ) -> list[tuple[Memory, float]]:
        """Most similar first (cosine similarity, then id), with each memory's similarity."""
        similarity = "(1 - (embedding <=> $2::text::vector))"
        return await self._ranked(
            similarity,
            "::float8",
            ["embedding_model = $3", f"{similarity} >= $4"],
            [_vector_text(vector), model, min_similarity],
            category=category,
            limit=limit,
            after=after,
        )

    async def delete_memory(self, memory_id: uuid.UUID) -> bool:
        deleted = await self.conn.fetchval(
            "DELETE FROM tripsage_assistant.memories WHERE id = $1 RETURNING true", memory_id
        )
        return bool(deleted)

    async def clear_memories(self) -> int:
        status = await self.conn.execute(
            "DELETE FROM tripsage_assistant.memories WHERE user_id = $1",
            uuid.UUID(self.caller_id),
        )
        return int(status.rsplit(" ", 1)[-1])


class AssistantStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    @asynccontextmanager
    async def unit(
        self, caller_id: str, grant: TripGrant | None = None
    ) -> AsyncIterator[AssistantUnit]:
        async with user_transaction(self.db.pool, CALLER_ROLE, caller_id) as conn:
            if grant is not None:
                await conn.execute(
                    "SELECT set_config($1, $2, true), set_config($3, $4, true)",
                    TRIP_SETTING,
                    grant.trip_id,
                    TRIP_ACCESS_SETTING,
                    grant.access.value,
                )
            yield AssistantUnit(conn, caller_id)


def _vector_text(vector: list[float]) -> str:
    # pgvector's text form; asyncpg has no codec for the type.
    return "[" + ",".join(repr(float(x)) for x in vector) + "]"
