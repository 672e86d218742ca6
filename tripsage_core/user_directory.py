"""Other services' view of users: look people up by email or id through the auth service."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tripsage.auth.v1 import auth_service_pb2 as auth_pb
from tripsage.auth.v1 import auth_service_pb2_grpc as auth_grpc
from tripsage_core.config import Settings
from tripsage_core.grpc_kit.client import shared_service_channel


@dataclass(frozen=True)
class UserSummary:
    id: str
    email: str
    full_name: str


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
