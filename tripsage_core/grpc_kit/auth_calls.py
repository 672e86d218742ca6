"""What other services ask the auth service, as TripSage services: users by email or id,
and a user's own provider keys (BYOK).

The provider key is returned in plain text for the duration of one call; never log
or store it. Auth refuses these calls to everyone but services.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from tripsage.auth.v1 import auth_service_pb2 as auth_pb
from tripsage.auth.v1 import auth_service_pb2_grpc as auth_grpc
from tripsage_core.cache import LocalCache
from tripsage_core.config import Settings
from tripsage_core.grpc_kit.client import shared_service_channel
from tripsage_core.provider_keys import provider_to_proto
from tripsage_core.users import UserSummary


def _normalize(email: str) -> str:
    return email.strip().lower()


async def lookup_users(
    settings: Settings, *, emails: Iterable[str] = (), user_ids: Iterable[str] = ()
) -> list[UserSummary]:
    """The users found (unknown ones are left out), via auth's LookupUsers as a service."""
    email_list, id_list = list(emails), list(user_ids)
    if not email_list and not id_list:
        return []
    channel = shared_service_channel(settings.service_addr("auth"), settings)
    reply = await auth_grpc.AuthServiceStub(channel).LookupUsers(
        auth_pb.LookupUsersRequest(emails=email_list, user_ids=id_list), timeout=10
    )
    return [UserSummary(u.id, u.email, u.full_name) for u in reply.users]


async def lookup_users_by_email(
    settings: Settings, emails: Iterable[str]
) -> dict[str, UserSummary]:
    """Normalised (trimmed, lower-case) email -> user, for the emails that have an account."""
    found = await lookup_users(settings, emails=emails)
    return {_normalize(user.email): user for user in found}


async def lookup_users_by_id(settings: Settings, user_ids: Iterable[str]) -> dict[str, UserSummary]:
    """User id -> user, for the ids that exist."""
    found = await lookup_users(settings, user_ids=user_ids)
    return {user.id: user for user in found}


async def user_provider_key(settings: Settings, user_id: str, service: str) -> str | None:
    """The user's own key for `service` ("duffel", "openai", ...), or None if they stored none."""
    channel = shared_service_channel(settings.service_addr("auth"), settings)
    reply = await auth_grpc.AuthServiceStub(channel).ResolveProviderKey(
        auth_pb.ResolveProviderKeyRequest(user_id=user_id, service=provider_to_proto(service)),
        timeout=10,
    )
    return reply.api_key if reply.found else None


class AuthServiceKeys:
    """Users' own provider keys (a `provider_accounts.UserKeySource`) from auth's
    ResolveProviderKey, asked with the service credential.

    Each answer, "no key" included, is remembered for PROVIDER_KEY_CACHE_SECONDS (10 by
    default) per user and provider, so a burst of searches asks auth once rather than once
    each; a key stored, replaced or deleted takes effect within that time
    (docs/security.md). Only this process's memory holds the keys, never Redis."""

    MAX_ENTRIES = 10_000

    def __init__(self, settings: Settings, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self._known: LocalCache[tuple[str, str], str | None] = LocalCache(
            settings.provider_key_cache_seconds, self.MAX_ENTRIES, clock=clock
        )

    async def user_key(self, user_id: str, service: str) -> str | None:
        known, key = self._known.lookup((user_id, service))
        if known:
            return key
        key = await user_provider_key(self.settings, user_id, service)
        self._known.store((user_id, service), key)
        return key
