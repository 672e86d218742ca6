"""Which book keeps a user's memories: Mem0 with the user's own key (BYOK) or
MEM0_API_KEY, else PostgreSQL. Every memory call of the service goes through here.

A user who adds or removes their own Mem0 key switches books from their next call:
memories are not copied between them (docs/assistant.md says so).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.assistant.memories import MemoryBook, MemoryFilter, NewMemory
from services.assistant.model import Memory
from tripsage_core.identity import Principal
from tripsage_core.keyset import Page
from tripsage_core.provider_accounts import KeyChooser, UserKeySource

if TYPE_CHECKING:
    import httpx

MEM0 = "mem0"


class MemoryAccounts:
    def __init__(
        self,
        local: MemoryBook,
        *,
        server_key: str | None,
        user_keys: UserKeySource,
        mem0_url: str,
        timeout: float,
    ) -> None:
        self.local = local
        self.keys = KeyChooser({MEM0: server_key}, user_keys)
        self.mem0_url = mem0_url
        self.timeout = timeout
        self.http: httpx.AsyncClient | None = None  # made (and httpx imported) for Mem0 only

    async def book(self, caller: Principal) -> MemoryBook:
        account = await self.keys.choose(caller, MEM0)
        if account.key is None:
            return self.local
        import httpx

        from services.assistant.mem0_memories import Mem0Memories

        if self.http is None:
            self.http = httpx.AsyncClient(timeout=self.timeout)
        return Mem0Memories(self.http, self.mem0_url, account.key)

    async def remember(self, caller: Principal, note: NewMemory) -> Memory:
        return await (await self.book(caller)).remember(caller, note)

    async def list(
        self, caller: Principal, filters: MemoryFilter, *, page_size: int, page_token: str
    ) -> Page[Memory]:
        book = await self.book(caller)
        return await book.list(caller, filters, page_size=page_size, page_token=page_token)

    async def forget(self, caller: Principal, memory_id: str) -> None:
        await (await self.book(caller)).forget(caller, memory_id)

    async def forget_all(self, caller: Principal) -> int:
        return await (await self.book(caller)).forget_all(caller)

    async def close(self) -> None:
        if self.http is not None:
            await self.http.aclose()
