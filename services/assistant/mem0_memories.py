"""Memories kept on Mem0's platform (api.mem0.ai, or MEM0_API_URL) instead of PostgreSQL,
for users whose memories should live there: the user's own Mem0 key (BYOK) or
MEM0_API_KEY. Mem0's REST API: `Authorization: Token <key>`; POST /v1/memories/ (add),
GET /v1/memories/?user_id= (list), POST /v2/memories/search/ (semantic search),
GET and DELETE /v1/memories/{id}/, DELETE /v1/memories/?user_id= (clear).

Statements are added verbatim (`infer: false`): the assistant already decided what to
remember. Mem0 scopes memories by `user_id` within a key's project, so every call
names the caller, and a memory fetched by id is checked to be the caller's before it
is shown or deleted: another user's id is NOT_FOUND.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from services.assistant import limits
from services.assistant.memories import (
    MemoryFilter,
    NewMemory,
    memory_not_found,
    too_many_memories,
)
from services.assistant.model import Memory, MemoryCategory
from tripsage_core.errors import Unavailable
from tripsage_core.identity import Principal
from tripsage_core.keyset import Page, Position, keyset_page
from tripsage_core.validators.ids import parse_uuid

logger = logging.getLogger("tripsage.assistant.mem0")
_CATEGORIES = {c.value: c for c in MemoryCategory}
SEARCH_TOP_K = 100


@dataclass(frozen=True)
class _Ranked:
    memory: Memory
    score: float


def _time(value: Any) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return datetime.now(UTC)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _memory(item: dict[str, Any], user_id: str) -> Memory:
    metadata = item.get("metadata") or {}
    return Memory(
        id=str(item["id"]),
        user_id=user_id,
        content=str(item.get("memory") or ""),
        category=_CATEGORIES.get(str(metadata.get("category")), MemoryCategory.FACT),
        conversation_id=metadata.get("conversation_id") or None,
        created_at=_time(item.get("created_at")),
        updated_at=_time(item.get("updated_at") or item.get("created_at")),
    )


def _bound(position: Position) -> tuple[Any, str]:
    return position["k"], str(uuid.UUID(position["i"]))


class Mem0Memories:
    """One Mem0 account (a key) serving the memories of the users it is chosen for."""

    def __init__(self, http: httpx.AsyncClient, base_url: str, key: str) -> None:
        self.http = http
        self.base = base_url.rstrip("/")
        self.headers = {"Authorization": f"Token {key}"}

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            answer = await self.http.request(
                method, f"{self.base}{path}", headers=self.headers, **kwargs
            )
        except httpx.HTTPError as error:
            logger.warning("Mem0 did not answer: %s", type(error).__name__)
            raise Unavailable(
                "the memory service is not answering; retry shortly",
                reason="MEMORY_SERVICE_UNAVAILABLE",
                retry_after_seconds=5,
            ) from None
        if answer.status_code == 404:
            return None
        if answer.status_code >= 400:
            logger.warning("Mem0 answered %s to %s %s", answer.status_code, method, path)
            raise Unavailable(
                f"the memory service refused the call ({answer.status_code})",
                reason="MEMORY_SERVICE_UNAVAILABLE",
                retry_after_seconds=5,
            )
        return answer.json() if answer.content else {}

    async def _all(self, caller: Principal) -> list[Memory]:
        found = await self._call("GET", "/v1/memories/", params={"user_id": caller.user_id})
        items = found.get("results", []) if isinstance(found, dict) else found or []
        # Mem0 filters by user_id; what it returns is checked all the same.
        return [_memory(i, caller.user_id) for i in items if i.get("user_id") == caller.user_id]

    async def _own(self, caller: Principal, memory_id: str) -> Memory | None:
        found = await self._call("GET", f"/v1/memories/{memory_id}/")
        if not isinstance(found, dict) or found.get("user_id") != caller.user_id:
            return None
        return _memory(found, caller.user_id)

    async def remember(self, caller: Principal, note: NewMemory) -> Memory:
        statement = note.statement
        known = await self._all(caller)
        same = next((m for m in known if m.content.lower() == statement.lower()), None)
        if same is not None:
            return same
        if len(known) >= limits.MEMORIES_PER_USER:
            raise too_many_memories()
        metadata = {"category": note.category.value}
        if note.conversation_id:
            metadata["conversation_id"] = note.conversation_id
        added = await self._call(
            "POST",
            "/v1/memories/",
            json={
                "messages": [{"role": "user", "content": statement}],
                "user_id": caller.user_id,
                "metadata": metadata,
                "infer": False,
                "version": "v2",
                "output_format": "v1.1",
            },
        )
        results = added.get("results", []) if isinstance(added, dict) else added or []
        if not results or "id" not in results[0]:
            raise Unavailable(
                "the memory service did not keep the memory", reason="MEMORY_SERVICE_UNAVAILABLE"
            )
        now = datetime.now(UTC)
        return Memory(
            id=str(results[0]["id"]),
            user_id=caller.user_id,
            content=str(results[0].get("memory") or statement),
            category=note.category,
            conversation_id=note.conversation_id,
            created_at=now,
            updated_at=now,
        )

    async def list(
        self, caller: Principal, filters: MemoryFilter, *, page_size: int, page_token: str
    ) -> Page[Memory]:
        query = " ".join(filters.query.split())[: limits.QUERY]
        if query:
            found = await self._call(
                "POST",
                "/v2/memories/search/",
                json={
                    "query": query,
                    "filters": {"user_id": caller.user_id},
                    "top_k": SEARCH_TOP_K,
                },
            )
            items = found.get("results", []) if isinstance(found, dict) else found or []
            ranked = [
                _Ranked(_memory(i, caller.user_id), float(i.get("score") or 0))
                for i in items
                if i.get("user_id") == caller.user_id
            ]
        else:
            ranked = [_Ranked(m, m.created_at.timestamp()) for m in await self._all(caller)]
        if filters.category is not None:
            ranked = [r for r in ranked if r.memory.category is filters.category]
        ranked.sort(key=lambda r: (r.score, r.memory.id), reverse=True)

        async def fetch(limit: int, after: tuple[Any, str] | None) -> list[_Ranked]:
            rows = ranked
            if after is not None:
                rows = [r for r in ranked if (r.score, r.memory.id) < (after[0], after[1])]
            return rows[:limit]

        page = await keyset_page(
            fetch, size=page_size, token=page_token,
            fingerprint=f"mem0|{filters.category or ''}|{query}",
            position_of=lambda last: {"k": last.score, "i": last.memory.id}, bound_of=_bound,
        )  # fmt: skip
        return Page([r.memory for r in page.rows], page.next_token)

    async def forget(self, caller: Principal, memory_id: str) -> None:
        parse_uuid(memory_id, "memory_id", "memory")
        if await self._own(caller, memory_id) is None:
            raise memory_not_found(memory_id)
        await self._call("DELETE", f"/v1/memories/{memory_id}/")

    async def forget_all(self, caller: Principal) -> int:
        count = len(await self._all(caller))
        await self._call("DELETE", "/v1/memories/", params={"user_id": caller.user_id})
        return count
