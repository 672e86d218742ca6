"""BYOK: users' own provider keys, encrypted at rest, audited, never shown again.

Plain text exists only in a request being stored or validated, and in the
answer to a TripSage service resolving the key for use. Log lines and audit
details name the provider and the last four characters, nothing more.
"""

from __future__ import annotations

import logging
from typing import Protocol

from services.auth.key_store import ProviderKeyEventRecord, ProviderKeyRecord, ProviderKeyStore
from services.auth.provider_checks import CheckResult, KeyStatus, format_problem
from tripsage_core.errors import FieldErrors, InvalidArgument, NotFound, PermissionDenied
from tripsage_core.identity import Principal
from tripsage_core.key_encryption import KeyEncryption
from tripsage_core.keyset import BY_CREATION, Page, keyset_page
from tripsage_core.provider_keys import PROVIDER_SERVICES
from tripsage_core.security_events import security_event

logger = logging.getLogger("tripsage.auth.byok")

MAX_KEY_LENGTH = 512


class ProviderChecker(Protocol):
    async def check(self, service: str, key: str) -> CheckResult: ...


def _associated(user_id: str, service: str) -> str:
    return f"{user_id}:{service}"


def _require_service(service: str) -> str:
    if service not in PROVIDER_SERVICES:
        raise InvalidArgument.for_field("service", f"must be one of {', '.join(PROVIDER_SERVICES)}")
    return service


class ProviderKeys:
    def __init__(
        self, store: ProviderKeyStore, encryption: KeyEncryption, checker: ProviderChecker
    ) -> None:
        self.store = store
        self.encryption = encryption
        self.checker = checker

    async def put(
        self, caller: Principal, service: str, api_key: str, *, validate: bool
    ) -> ProviderKeyRecord:
        errors = FieldErrors()
        if service not in PROVIDER_SERVICES:
            errors.add("service", f"must be one of {', '.join(PROVIDER_SERVICES)}")
        key = api_key.strip()
        if not key:
            errors.add("api_key", "is required")
        elif len(key) > MAX_KEY_LENGTH:
            errors.add("api_key", f"must be at most {MAX_KEY_LENGTH} characters")
        elif service in PROVIDER_SERVICES and (problem := format_problem(service, key)):
            errors.add("api_key", problem)
        errors.raise_if_any()
        result = CheckResult(KeyStatus.UNVERIFIED, "format valid, not verified")
        if validate:
            result = await self.checker.check(service, key)
            if result.status is KeyStatus.INVALID:
                raise InvalidArgument.for_field("api_key", result.message)
        sealed = self.encryption.seal(key, associated=_associated(caller.user_id, service))
        record, replaced = await self.store.put(
            user_id=caller.user_id,
            service=service,
            sealed=sealed,
            last_four=key[-4:],
            status=result.status.value,
            status_message=result.message,
            validated=validate,
        )
        kind = "replaced" if replaced else "created"
        await self.store.add_event(
            caller.user_id, service, kind, actor="user", status=result.status.value,
            detail=f"key ending {key[-4:]} stored",
        )  # fmt: skip
        if validate:
            await self.store.add_event(
                caller.user_id, service, "validated", actor="user",
                status=result.status.value, detail=result.message,
            )  # fmt: skip
        security_event(f"provider_key_{kind}", user_id=caller.user_id, service=service)
        return record

    async def list(self, caller: Principal) -> list[ProviderKeyRecord]:
        return await self.store.of_user(caller.user_id)

    async def validate(self, caller: Principal, service: str) -> ProviderKeyRecord:
        record = await self._existing(caller.user_id, _require_service(service))
        key = self.encryption.open(record.sealed, associated=_associated(caller.user_id, service))
        result = await self.checker.check(service, key)
        updated = await self.store.set_status(
            caller.user_id, service, result.status.value, result.message
        )
        if updated is None:
            raise NotFound(f"no {service} key stored")
        await self.store.add_event(
            caller.user_id, service, "validated", actor="user", status=result.status.value,
            detail=result.message,
        )  # fmt: skip
        return updated

    async def delete(self, caller: Principal, service: str) -> None:
        if not await self.store.delete(caller.user_id, _require_service(service)):
            raise NotFound(f"no {service} key stored")
        await self.store.add_event(
            caller.user_id, service, "deleted", actor="user", detail="key deleted"
        )
        security_event("provider_key_deleted", user_id=caller.user_id, service=service)

    async def events(
        self, caller: Principal, service: str, *, size: int, token: str
    ) -> Page[ProviderKeyEventRecord]:
        _require_service(service)
        page = await keyset_page(
            lambda limit, after: self.store.events(
                caller.user_id, service, limit=limit, after=after
            ),
            size=size, token=token, fingerprint=service,
            position_of=BY_CREATION.position_of, bound_of=BY_CREATION.bound_of,
        )  # fmt: skip
        return page

    async def resolve(
        self, caller: Principal, user_id: str, service: str
    ) -> tuple[ProviderKeyRecord, str] | None:
        """The user's key in plain text, for a TripSage service to use on their behalf."""
        if not caller.is_service:
            raise PermissionDenied(
                "only TripSage services may resolve provider keys", reason="SERVICE_ONLY"
            )
        if caller.user_id and caller.user_id != user_id:
            # A service acting for one user never fetches another user's key.
            raise PermissionDenied(
                "a service may resolve only the key of the user it acts for",
                reason="OTHER_USERS_KEY",
            )
        _require_service(service)
        try:
            record = await self.store.get(user_id, service)
        except ValueError:
            raise InvalidArgument.for_field("user_id", "is not a user id") from None
        if record is None:
            return None
        key = self.encryption.open(record.sealed, associated=_associated(user_id, service))
        await self.store.mark_used(user_id, service)
        await self.store.add_event(
            user_id, service, "used", actor=caller.via_service, status=record.status,
            detail=f"resolved by the {caller.via_service} service",
        )  # fmt: skip
        return record, key

    async def _existing(self, user_id: str, service: str) -> ProviderKeyRecord:
        record = await self.store.get(user_id, service)
        if record is None:
            raise NotFound(f"no {service} key stored")
        return record
