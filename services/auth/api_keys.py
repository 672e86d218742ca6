"""API keys for server-to-server callers: created once-visible, stored hashed, scoped, revocable."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NoReturn

from services.auth.key_store import ApiKeyRecord, ApiKeyStore
from services.auth.store import UserStore
from tripsage_core.api_key_scopes import MAX_SCOPES, scope_problem, scopes_beyond
from tripsage_core.errors import FieldErrors, NotFound, PermissionDenied, Unauthenticated
from tripsage_core.identity import Principal, PrincipalKind
from tripsage_core.keyset import BY_CREATION, Page, keyset_page
from tripsage_core.revocations import Revocations
from tripsage_core.security_events import security_event

logger = logging.getLogger("tripsage.auth.api_keys")

SECRET_PREFIX = "tsk_"
SHOWN_PREFIX_LENGTH = len(SECRET_PREFIX) + 8
MAX_NAME_LENGTH = 100


@dataclass(frozen=True)
class CreatedApiKey:
    key: ApiKeyRecord
    secret: str


def _refuse(field_name: str, description: str) -> NoReturn:
    raise PermissionDenied(
        f"{field_name}: {description}",
        reason="API_KEY_SCOPE_EXCEEDED",
        metadata={"field": field_name},
    )


class ApiKeys:
    def __init__(self, store: ApiKeyStore, users: UserStore, revocations: Revocations) -> None:
        self.store = store
        self.users = users
        self.revocations = revocations

    async def create(
        self, caller: Principal, *, name: str, scopes: list[str], expires_at: datetime | None
    ) -> CreatedApiKey:
        errors = FieldErrors()
        name = name.strip()
        if not name:
            errors.add("api_key.name", "is required")
        elif len(name) > MAX_NAME_LENGTH:
            errors.add("api_key.name", f"must be at most {MAX_NAME_LENGTH} characters")
        if len(scopes) > MAX_SCOPES:
            errors.add("api_key.scopes", f"at most {MAX_SCOPES} scopes")
        for index, scope in enumerate(scopes):
            if problem := scope_problem(scope):
                errors.add(f"api_key.scopes[{index}]", problem)
        if expires_at is not None and expires_at <= datetime.now(UTC):
            errors.add("api_key.expire_time", "must be in the future")
        errors.raise_if_any()
        if caller.kind is PrincipalKind.API_KEY:
            await self._check_within_caller_key(caller, scopes, expires_at)
        secret = SECRET_PREFIX + secrets.token_urlsafe(32)
        key = await self.store.create(
            owner_id=caller.user_id,
            name=name,
            prefix=secret[:SHOWN_PREFIX_LENGTH],
            secret=secret,
            scopes=sorted(set(scopes)),
            expires_at=expires_at,
        )
        security_event("api_key_created", user_id=caller.user_id, api_key_id=key.id)
        return CreatedApiKey(key, secret)

    async def _check_within_caller_key(
        self, caller: Principal, scopes: list[str], expires_at: datetime | None
    ) -> None:
        """A key may create only keys with no more scopes and no later expiry than its own,
        or a leaked narrow key would mint a broad, everlasting one."""
        own = (
            await self.store.by_id(caller.user_id, caller.api_key_id) if caller.api_key_id else None
        )
        if own is None:  # revoked and purged between resolution and now
            raise Unauthenticated("API key is not valid", reason="API_KEY_INVALID")
        if beyond := scopes_beyond(scopes, own.scopes):
            wanted = ", ".join(beyond) if scopes else "every scope (no scopes)"
            _refuse("api_key.scopes", f"{wanted} goes beyond this key's scopes")
        if own.expires_at is not None and (expires_at is None or expires_at > own.expires_at):
            _refuse(
                "api_key.expire_time",
                f"must be set, no later than this key's expiry ({own.expires_at.isoformat()})",
            )

    async def list(
        self, caller: Principal, *, size: int, token: str, include_revoked: bool
    ) -> Page[ApiKeyRecord]:
        page = await keyset_page(
            lambda limit, after: self.store.page(
                caller.user_id, include_revoked=include_revoked, limit=limit, after=after
            ),
            size=size, token=token, fingerprint="all" if include_revoked else "active",
            position_of=BY_CREATION.position_of, bound_of=BY_CREATION.bound_of,
        )  # fmt: skip
        return page

    async def revoke(self, caller: Principal, key_id: str) -> ApiKeyRecord:
        try:
            key = await self.store.revoke(caller.user_id, key_id)
        except ValueError:
            key = None
        if key is None:
            raise NotFound("API key not found")
        await self.revocations.revoke_api_key(key.id)
        security_event("api_key_revoked", user_id=caller.user_id, api_key_id=key.id)
        return key

    async def revoke_all_of(self, user_id: str, reason: str) -> int:
        """Revokes every key of the user, on the revocation list too, so every service
        refuses them on their next call (not when their cached resolution runs out)."""
        revoked = await self.store.revoke_all_of(user_id)
        for key_id in revoked:
            await self.revocations.revoke_api_key(key_id)
        if revoked:
            security_event("api_keys_revoked", user_id=user_id, count=len(revoked), reason=reason)
        return len(revoked)

    async def resolve_api_key(self, secret: str) -> Principal:
        """The principal an API key stands for: its owner, limited to its scopes."""
        return (await self.resolve_with_expiry(secret))[0]

    async def resolve_with_expiry(self, secret: str) -> tuple[Principal, datetime | None]:
        """The key's principal and when the key expires, so callers never cache it longer."""
        key = await self.store.by_secret(secret) if secret.startswith(SECRET_PREFIX) else None
        if key is None:
            raise Unauthenticated("API key is not valid", reason="API_KEY_INVALID")
        if key.revoked_at is not None:
            raise Unauthenticated("this API key was revoked", reason="API_KEY_REVOKED")
        if key.expires_at is not None and key.expires_at <= datetime.now(UTC):
            raise Unauthenticated("this API key has expired", reason="API_KEY_EXPIRED")
        owner = await self.users.active_user(key.owner_id)
        principal = Principal(
            user_id=owner.id,
            email=owner.email,
            role=owner.role,
            kind=PrincipalKind.API_KEY,
            scopes=key.scopes,
            api_key_id=key.id,
        )
        return principal, key.expires_at
