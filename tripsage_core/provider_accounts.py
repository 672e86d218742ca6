"""Which key pays for a provider call: the user's own (BYOK), else the server's, else none
(the sandbox or the offline assistant answers). Shared by travel and the assistant.

The account a result was fetched with is part of travel's cache key, so results
fetched with one user's key are never served to another user.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from tripsage_core.identity import Principal

logger = logging.getLogger("tripsage.provider_accounts")

# The provider names the auth service's BYOK store uses.
DUFFEL = "duffel"
GOOGLE_MAPS = "google_maps"
OPENWEATHERMAP = "openweathermap"
OPENAI = "openai"


@dataclass(frozen=True)
class ProviderAccount:
    """The key chosen for one call; key None means the sandbox answers."""

    service: str
    key: str | None
    user_key: bool
    partition: str

    @property
    def is_sandbox(self) -> bool:
        return self.key is None


class UserKeySource(Protocol):
    """Where a user's own provider keys come from (the auth service's ResolveProviderKey)."""

    async def user_key(self, user_id: str, service: str) -> str | None: ...


class NoUserKeys:
    """The seam used when no BYOK source is wired: every user falls back to the server key."""

    async def user_key(self, user_id: str, service: str) -> str | None:
        return None


class KeyChooser:
    def __init__(self, server_keys: Mapping[str, str | None], user_keys: UserKeySource) -> None:
        self.server_keys = dict(server_keys)
        self.user_keys = user_keys

    async def choose(self, caller: Principal, service: str) -> ProviderAccount:
        try:
            own = await self.user_keys.user_key(caller.user_id, service)
        except Exception as exc:  # a BYOK look-up failure must not fail the call
            logger.warning("BYOK look-up for %s failed, using the server key: %s", service, exc)
            own = None
        if own:
            # The key's fingerprint is in the partition too: a replaced key starts afresh.
            digest = hashlib.sha256(own.encode()).hexdigest()[:12]
            return ProviderAccount(service, own, True, f"user:{caller.user_id}:{digest}")
        server = self.server_keys.get(service)
        if server:
            return ProviderAccount(service, server, False, "server")
        return ProviderAccount(service, None, False, "sandbox")
