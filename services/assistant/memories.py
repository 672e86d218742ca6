"""What the assistant remembers about a user: told directly or learnt in conversation.

Each user sees and changes only their own memories (RLS). Search is semantic when an
embeddings model is configured and the database has pgvector (most similar first),
else, or when the embeddings server fails, PostgreSQL full-text search (best match
first); without a query the newest come first. No transport here.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Protocol

from services.assistant import limits
from services.assistant.model import Memory, MemoryCategory
from services.assistant.store import AssistantStore
from tripsage_core.errors import FailedPrecondition, FieldErrors, NotFound
from tripsage_core.identity import Principal
from tripsage_core.keyset import BY_CREATION, Page, Position, keyset_page
from tripsage_core.validators.ids import parse_uuid

logger = logging.getLogger("tripsage.assistant.memories")

# Below this cosine similarity a memory is not a match.
MIN_SIMILARITY = 0.3
# Memories embedded on the way into a search that finds some without a vector (told
# before embeddings were configured, or while the embeddings server was down).
BACKFILL = 100


class EmbeddingsUnavailable(Exception):
    """The embeddings server did not answer; search falls back to full text."""


class Embedder(Protocol):
    model: str

    async def embed(self, texts: list[str]) -> list[list[float]]: ...


@dataclass(frozen=True)
class MemoryFilter:
    query: str = ""
    category: MemoryCategory | None = None


def memory_not_found(memory_id: str) -> NotFound:
    return NotFound(f"memory {memory_id} not found", reason="MEMORY_NOT_FOUND")


def too_many_memories() -> FailedPrecondition:
    return FailedPrecondition(
        f"at most {limits.MEMORIES_PER_USER} memories are kept; delete some first",
        reason="TOO_MANY_MEMORIES",
    )


def statement_of(content: str) -> str:
    """The statement to keep, white space folded; a 400 naming the field when empty or long."""
    statement = " ".join(content.split())
    errors = FieldErrors()
    if not statement:
        errors.add("memory.content", "is required")
    elif len(statement) > limits.MEMORY:
        errors.add("memory.content", f"must be at most {limits.MEMORY} characters")
    errors.raise_if_any()
    return statement


@dataclass(frozen=True)
class NewMemory:
    """What to remember: a statement in the user's words, its category, where it was said."""

    content: str
    category: MemoryCategory
    conversation_id: str | None = None

    @property
    def statement(self) -> str:
        return statement_of(self.content)


class MemoryBook(Protocol):
    """Where one user's memories are kept: PostgreSQL (Memories) or Mem0."""

    async def remember(self, caller: Principal, note: NewMemory) -> Memory: ...

    async def list(
        self, caller: Principal, filters: MemoryFilter, *, page_size: int, page_token: str
    ) -> Page[Memory]: ...

    async def forget(self, caller: Principal, memory_id: str) -> None: ...

    async def forget_all(self, caller: Principal) -> int: ...


def _rank_bound(position: Position) -> tuple[float, str]:
    rank = position["r"]
    if not isinstance(rank, float):
        raise ValueError("not a rank")
    return rank, str(uuid.UUID(position["i"]))


def _similarity_bound(position: Position) -> tuple[float, str]:
    similarity = position["s"]
    if not isinstance(similarity, float):
        raise ValueError("not a similarity")
    return similarity, str(uuid.UUID(position["i"]))


class Memories:
    def __init__(self, store: AssistantStore, embedder: Embedder | None = None) -> None:
        self.store = store
        self.embedder = embedder
        self._vectors: bool | None = None  # does the database have the embedding column?

    async def _semantic(self, caller: Principal) -> Embedder | None:
        if self.embedder is None:
            return None
        if self._vectors is None:
            async with self.store.unit(caller.user_id) as uow:
                self._vectors = await uow.embeddings_supported()
            if not self._vectors:
                logger.warning("EMBEDDING_MODEL is set but the database has no pgvector:"
                               " memories are searched by full text")  # fmt: skip
        return self.embedder if self._vectors else None

    async def remember(self, caller: Principal, note: NewMemory) -> Memory:
        async with self.store.unit(caller.user_id) as uow:
            if await uow.count_memories() >= limits.MEMORIES_PER_USER:
                raise too_many_memories()
            memory = await uow.insert_memory(note.statement, note.category, note.conversation_id)
        await self._embed(caller, [memory])
        return memory

    async def _embed(self, caller: Principal, memories: list[Memory]) -> bool:
        """Stores the memories' vectors; False when the embeddings server failed."""
        embedder = await self._semantic(caller)
        if embedder is None or not memories:
            return embedder is not None
        try:
            vectors = await embedder.embed([m.content for m in memories])
        except EmbeddingsUnavailable:
            return False  # embedded later, by the next search that finds them without
        async with self.store.unit(caller.user_id) as uow:
            for memory, vector in zip(memories, vectors, strict=True):
                await uow.set_embedding(memory.id, vector, embedder.model)
        return True

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

        embedder = await self._semantic(caller)
        if embedder is not None:
            found = await self._nearest(caller, embedder, query, filters, page_size, page_token)
            if found is not None:
                return found

        async def best(limit: int, after: tuple[float, str] | None) -> list[tuple[Memory, float]]:
            async with self.store.unit(caller.user_id) as uow:
                return await uow.search_memories(query, category=category, limit=limit, after=after)

        page = await keyset_page(
            best, size=page_size, token=page_token, fingerprint=fingerprint,
            position_of=lambda last: {"r": last[1], "i": last[0].id}, bound_of=_rank_bound,
        )  # fmt: skip
        return Page([memory for memory, _ in page.rows], page.next_token)

    async def _nearest(
        self,
        caller: Principal,
        embedder: Embedder,
        query: str,
        filters: MemoryFilter,
        page_size: int,
        page_token: str,
    ) -> Page[Memory] | None:
        """The semantic page, or None when the embeddings server fails (full text then)."""
        async with self.store.unit(caller.user_id) as uow:
            missing = await uow.memories_without_embedding(embedder.model, BACKFILL)
        if not await self._embed(caller, missing):
            return None
        try:
            (vector,) = await embedder.embed([query])
        except EmbeddingsUnavailable:
            return None

        async def nearest(
            limit: int, after: tuple[float, str] | None
        ) -> list[tuple[Memory, float]]:
            async with self.store.unit(caller.user_id) as uow:
                return await uow.nearest_memories(
                    vector, embedder.model, category=filters.category, limit=limit,
                    after=after, min_similarity=MIN_SIMILARITY,
                )  # fmt: skip

        # The token is bound to the query and the model: another model's page is not this.
        page = await keyset_page(
            nearest, size=page_size, token=page_token,
            fingerprint=f"memories~{embedder.model}|{filters.category or ''}|{query}",
            position_of=lambda last: {"s": last[1], "i": last[0].id}, bound_of=_similarity_bound,
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
