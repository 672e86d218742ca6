"""LookupUsers: the public profiles other TripSage services may show. Services only."""

from __future__ import annotations

import uuid

from services.auth.accounts import normalize_email
from services.auth.store import UserRecord, UserStore
from tripsage_core.errors import FieldErrors, PermissionDenied
from tripsage_core.identity import Principal

MAX_LOOKUP = 100


class Directory:
    def __init__(self, store: UserStore) -> None:
        self.store = store

    async def lookup(
        self, caller: Principal, *, user_ids: list[str], emails: list[str]
    ) -> list[UserRecord]:
        if not caller.is_service:
            raise PermissionDenied(
                "only TripSage services may look users up", reason="SERVICE_ONLY"
            )
        errors = FieldErrors()
        if len(user_ids) > MAX_LOOKUP:
            errors.add("user_ids", f"at most {MAX_LOOKUP}")
        if len(emails) > MAX_LOOKUP:
            errors.add("emails", f"at most {MAX_LOOKUP}")
        ids: list[uuid.UUID] = []
        for index, raw in enumerate(user_ids):
            try:
                ids.append(uuid.UUID(raw))
            except ValueError:
                errors.add(f"user_ids[{index}]", "is not a user id")
        errors.raise_if_any()
        if not ids and not emails:
            return []
        return await self.store.lookup(
            user_ids=ids, emails=sorted({normalize_email(e) for e in emails if e.strip()})
        )
