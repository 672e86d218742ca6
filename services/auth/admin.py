"""Administration: list users, disable or enable them, change roles. Admins only.

The caller's role is read from the database, not from their token, so a
demoted admin loses the rights at once. To a non-admin, ListUsers is
PERMISSION_DENIED and every other user is NOT_FOUND (ids cannot be probed).
"""

from __future__ import annotations

import logging
import uuid

from services.auth.api_keys import ApiKeys
from services.auth.store import UserRecord, UserStore
from tripsage_core.errors import FailedPrecondition, NotFound, PermissionDenied
from tripsage_core.identity import Principal, Role
from tripsage_core.keyset import BY_CREATION, Page, keyset_page
from tripsage_core.revocations import Revocations
from tripsage_core.security_events import security_event

logger = logging.getLogger("tripsage.auth.admin")


class Admin:
    def __init__(self, users: UserStore, api_keys: ApiKeys, revocations: Revocations) -> None:
        self.users = users
        self.api_keys = api_keys
        self.revocations = revocations

    async def is_admin(self, caller: Principal) -> bool:
        """From the database, not the token, so a role change takes effect at once."""
        if not caller.user_id:
            return False
        me = await self.users.user_by_id(caller.user_id)
        return me is not None and not me.disabled and me.role is Role.ADMIN

    async def list_users(
        self,
        caller: Principal,
        *,
        query: str,
        role: Role | None,
        include_disabled: bool,
        size: int,
        token: str,
    ) -> Page[UserRecord]:
        if not await self.is_admin(caller):
            raise PermissionDenied("only administrators may list users", reason="ADMIN_ONLY")
        scope = f"{query.strip().lower()}|{role or ''}|{include_disabled}"
        page = await keyset_page(
            lambda limit, after: self.users.page(
                query=query.strip(),
                role=role.value if role else None,
                include_disabled=include_disabled,
                limit=limit,
                after=after,
            ),
            size=size, token=token, fingerprint=scope,
            position_of=BY_CREATION.position_of, bound_of=BY_CREATION.bound_of,
        )  # fmt: skip
        return page

    async def _target(self, caller: Principal, user_id: str) -> UserRecord:
        if not await self.is_admin(caller):
            raise NotFound("user not found")
        try:
            uuid.UUID(user_id)
        except ValueError:
            raise NotFound("user not found") from None
        user = await self.users.user_by_id(user_id)
        if user is None:
            raise NotFound("user not found")
        if user.id == caller.user_id:
            raise FailedPrecondition(
                "administrators cannot disable or demote themselves", reason="SELF_ADMIN_CHANGE"
            )
        return user

    async def set_disabled(self, caller: Principal, user_id: str, disabled: bool) -> UserRecord:
        target = await self._target(caller, user_id)
        updated = await self.users.set_flag(target.id, disabled=disabled)
        if updated is None:
            raise NotFound("user not found")
        if disabled:
            # Listed first, so every service refuses the user's tokens from this moment.
            await self.revocations.disable_user(target.id)
            ended = await self.users.revoke_user_sessions(target.id, "user disabled")
            await self.revocations.revoke_sessions(ended)
            await self.api_keys.revoke_all_of(target.id, "user disabled")
        else:
            await self.revocations.enable_user(target.id)
        security_event(
            "user_disabled" if disabled else "user_enabled", user_id=target.id, by=caller.user_id
        )
        return updated

    async def set_role(self, caller: Principal, user_id: str, role: Role) -> UserRecord:
        target = await self._target(caller, user_id)
        updated = await self.users.set_flag(target.id, role=role.value)
        if updated is None:
            raise NotFound("user not found")
        security_event("role_changed", user_id=target.id, role=role.value, by=caller.user_id)
        return updated
