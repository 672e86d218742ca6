"""Operator commands of the auth service: create an administrator, rotate SECRET_KEY.

Both run against POSTGRES_URL directly (migrations are applied first), so they
work before any service is up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from services.auth.accounts import email_problem, normalize_email
from services.auth.key_store import ProviderKeyStore
from services.auth.passwords import check_strength, hash_password
from services.auth.store import UserStore
from tripsage_core.config import Settings
from tripsage_core.database import Database
from tripsage_core.errors import InvalidArgument
from tripsage_core.identity import Role
from tripsage_core.key_encryption import UndecryptableError, key_encryption
from tripsage_core.migrations import migrate

logger = logging.getLogger("tripsage.auth.operator")

MIGRATIONS = Path(__file__).parent / "migrations"


async def _database(settings: Settings) -> Database:
    if settings.postgres_url is None:
        raise SystemExit("POSTGRES_URL is not set")
    await migrate(settings.postgres_session_url or "", "auth", MIGRATIONS)
    database = Database(
        settings.postgres_url.get_secret_value(),
        max_size=2,
        statement_cache_size=settings.postgres_statement_cache_size,
    )
    await database.connect()
    return database


async def create_admin(
    settings: Settings, *, email: str, password: Callable[[], str], full_name: str
) -> str:
    """Makes `email` an administrator, creating the account if needed. Returns what happened.

    `password` is asked for only when the account has to be created."""
    normalized = normalize_email(email)
    if problem := email_problem(normalized):
        raise InvalidArgument.for_field("email", problem)
    database = await _database(settings)
    try:
        users = UserStore(database)
        existing = await users.user_by_email(normalized)
        if existing is not None:
            await users.set_flag(existing.id, role=Role.ADMIN.value, disabled=False)
            return f"{existing.email} is now an administrator"
        chosen = password()
        check_strength(chosen)
        user = await users.create_user(
            email=email.strip(),
            email_normalized=normalized,
            full_name=full_name.strip(),
            password_hash=await asyncio.to_thread(hash_password, chosen),
        )
        assert user is not None
        await users.set_flag(user.id, role=Role.ADMIN.value)
        return f"administrator {user.email} created"
    finally:
        await database.close()


@dataclass(frozen=True)
class RotationReport:
    reencrypted: int
    already_current: int


async def rotate_secret_key(settings: Settings) -> RotationReport:
    """Re-encrypts every BYOK key under the current SECRET_KEY.

    SECRET_KEY is the new key and SECRET_KEY_PREVIOUS the old one. Every key is
    decrypted first; if any cannot be, nothing is written and the command
    fails, so no key is ever lost. The rewrite is one transaction.
    """
    if settings.secret_key is None:
        raise SystemExit("SECRET_KEY is not set")
    encryption = key_encryption(settings)
    database = await _database(settings)
    try:
        store = ProviderKeyStore(database)
        records = await store.all_sealed()
        stale = [r for r in records if r.sealed.key_id != encryption.current_key_id]
        plain: list[tuple[str, str, str]] = []
        for record in stale:
            associated = f"{record.user_id}:{record.service}"
            try:
                plain.append(
                    (
                        record.user_id,
                        record.service,
                        encryption.open(record.sealed, associated=associated),
                    )
                )
            except UndecryptableError:
                raise SystemExit(
                    f"cannot decrypt the {record.service} key of user {record.user_id}: set"
                    " SECRET_KEY_PREVIOUS to the SECRET_KEY it was stored under; nothing changed"
                ) from None
        async with database.pool.acquire() as conn, conn.transaction():
            for user_id, service, key in plain:
                sealed = encryption.seal(key, associated=f"{user_id}:{service}")
                await store.replace_sealed(conn, user_id, service, sealed)
        return RotationReport(len(plain), len(records) - len(stale))
    finally:
        await database.close()
