"""What the assistant remembers about a user: told directly or learnt in conversation.

Each user sees and changes only their own memories (RLS). Search is PostgreSQL
full-text search over the statements (best match first); without a query the
newest come first. No transport here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from services.assistant import limits
from services.assistant.model import Memory, MemoryCategory
from services.assistant.store import AssistantStore
from tripsage_core.errors import FailedPrecondition, FieldErrors, NotFound
from tripsage_core.identity import Principal
from tripsage_core.keyset import BY_CREATION, Page, Position, keyset_page
from tripsage_core.validators.ids import parse_uuid


@dataclass(frozen=True)
class MemoryFilter:
    query: str = ""
    category: MemoryCategory | None = None


def memory_not_found(memory_id: str) -> NotFound:
    return NotFound(f"memory {memory_id} not found", reason="MEMORY_NOT_FOUND")


def _rank_bound(position: Position) -> tuple[float, str]:
    rank = position["r"]
    if not isinstance(rank, float):
        raise ValueError("not a rank")
    return rank, str(uuid.UUID(position["i"]))


class Memories:
    def __init__(self, store: AssistantStore) -> None:
        self.store = store

    async def remember(
        self,
        caller: Principal,
        content: str,
        category: MemoryCategory,
        *,
        conversation_id: str | None = None,
    ) -> Memory:
        statement = " ".join(content.split())
        errors = FieldErrors()
        if not statement:
            errors.add("memory.content", "is required")
        elif len(statement) > limits.MEMORY:
            errors.add("memory.content", f"must be at most {limits.MEMORY} characters")
        errors.raise_if_any()
        async with self.store.unit(caller.user_id) as uow:
            if await uow.count_memories() >= limits.MEMORIES_PER_USER:
                raise FailedPrecondition(
                    f"at most {limits.MEMORIES_PER_USER} memories are kept; delete some first",
                    reason="TOO_MANY_MEMORIES",
                )
            return await uow.insert_memory(statement, category, conversation_id)

    async def list(
        self, caller: Principal, filters: MemoryFilter, *, page_size: int, page_token: str
    ) -> Page[Memory]:
        query = " ".join(filters.query.split())
        if len(query) > limits.QUERY:
            errors = FieldErrors()
            errors.add("query", f"must be at most {limits.QUERY} characters")
            errors.raise_if_any()
        category = filters.category
        fingerprint = f"memories|{category or ''}|{query}"
        if not query:

            async def newest(limit: int, after: tuple[object, str] | None) -> list[Memory]:
                async with self.store.unit(caller.user_id) as uow:
                    return await uow.memory_page(
                        category=category,
                        limit=limit,
                        after=after,  # type: ignore[arg-type]
                    )

            return await keyset_page(
                newest, size=page_size, token=page_token, fingerprint=fingerprint,
                position_of=BY_CREATION.position_of, bound_of=BY_CREATION.bound_of,
            )  # fmt: skip

        async def best(limit: int, after: tuple[float, str] | None) -> list[tuple[Memory, float]]:
            async with self.store.unit(caller.user_id) as uow:
                return await uow.search_memories(query, category=category, limit=limit, after=after)

        page = await keyset_page(
            best, size=page_size, token=page_token, fingerprint=fingerprint,
            position_of=lambda last: {"r": last[1], "i": last[0].id}, bound_of=_rank_bound,
        )  # fmt: skip
        return Page([memory for memory, _ in page.rows], page.next_token)

    async def forget(self, caller: Principal, memory_id: str) -> None:
        ident = parse_uuid(memory_id, "memory_id", "memory")
        async with self.store.unit(caller.user_id) as uow:
            if not await uow.delete_memory(ident):
                raise memory_not_found(memory_id)

    async def forget_all(self, caller: Principal) -> int:
        async with self.store.unit(caller.user_id) as uow:
            return await uow.clear_memories()
