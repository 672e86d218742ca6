"""PostgreSQL storage of API keys and BYOK provider keys (schema tripsage_auth)."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from tripsage_core.database import Database
from tripsage_core.key_encryption import Sealed
from tripsage_core.rows import page_query, record_from_row


def hash_secret(secret: str) -> bytes:
    # API key secrets are 256 random bits, so a plain SHA-256 is enough (no brute force).
    return hashlib.sha256(secret.encode()).digest()


@dataclass
class ApiKeyRecord:
    id: str
    owner_id: str
    name: str
    prefix: str
    scopes: tuple[str, ...]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass
class ProviderKeyRecord:
    user_id: str
    service: str
    sealed: Sealed
    last_four: str
    status: str
    status_message: str
    created_at: datetime
    updated_at: datetime
    last_validated_at: datetime | None
    last_used_at: datetime | None


@dataclass
class ProviderKeyEventRecord:
    id: str
    service: str
    kind: str
    status: str
    actor: str
    detail: str
    created_at: datetime


def _api_key(row: asyncpg.Record) -> ApiKeyRecord:
    return record_from_row(ApiKeyRecord, row, scopes=tuple(row["scopes"]))


def _sealed_columns(sealed: Sealed) -> tuple[bytes, bytes, bytes, str, int]:
    """ciphertext, nonce, salt, key_id, key_version: the columns `_provider_key` reads back."""
    return sealed.ciphertext, sealed.nonce, sealed.salt, sealed.key_id, sealed.key_version


def _provider_key(row: asyncpg.Record) -> ProviderKeyRecord:
    sealed = Sealed(
        bytes(row["ciphertext"]),
        bytes(row["nonce"]),
        bytes(row["salt"]),
        row["key_id"],
        row["key_version"],
    )
    return record_from_row(ProviderKeyRecord, row, sealed=sealed)


class ApiKeyStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self,
        *,
        owner_id: str,
        name: str,
        prefix: str,
        secret: str,
        scopes: list[str],
        expires_at: datetime | None,
    ) -> ApiKeyRecord:
        row = await self.db.pool.fetchrow(
            """
            INSERT INTO tripsage_auth.api_keys
                (id, owner_id, name, prefix, secret_hash, scopes, expires_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            RETURNING *
            """,
            uuid.uuid4(),
            uuid.UUID(owner_id),
            name,
            prefix,
            hash_secret(secret),
            scopes,
            expires_at,
        )
        assert row is not None
        return _api_key(row)

    async def by_secret(self, secret: str) -> ApiKeyRecord | None:
        """The key with this secret, marking it used (at most once a minute per key)."""
        async with self.db.pool.acquire() as conn:
            row = await conn.fetchrow(
                "SELECT * FROM tripsage_auth.api_keys WHERE secret_hash = $1", hash_secret(secret)
            )
            if row is not None:
                await conn.execute(
                    "UPDATE tripsage_auth.api_keys SET last_used_at = now() WHERE id = $1"
                    " AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')",
                    row["id"],
                )
        return _api_key(row) if row else None

    async def by_id(self, owner_id: str, key_id: str) -> ApiKeyRecord | None:
        row = await self.db.pool.fetchrow(
            "SELECT * FROM tripsage_auth.api_keys WHERE id = $1 AND owner_id = $2",
            uuid.UUID(key_id),
            uuid.UUID(owner_id),
        )
        return _api_key(row) if row else None

    async def page(
        self,
        owner_id: str,
        *,
        include_revoked: bool,
        limit: int,
        after: tuple[datetime, str] | None,
    ) -> list[ApiKeyRecord]:
        conditions = ["owner_id = $1"]
        args: list[Any] = [uuid.UUID(owner_id)]
        if not include_revoked:
            conditions.append("revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())")
        query = page_query(
            "SELECT * FROM tripsage_auth.api_keys", conditions, args, after=after, limit=limit
        )
        rows = await self.db.pool.fetch(query, *args)
        return [_api_key(row) for row in rows]

    async def revoke(self, owner_id: str, key_id: str) -> ApiKeyRecord | None:
        row = await self.db.pool.fetchrow(
            """
            UPDATE tripsage_auth.api_keys SET revoked_at = coalesce(revoked_at, now())
            WHERE id = $1 AND owner_id = $2
            RETURNING *
            """,
            uuid.UUID(key_id),
            uuid.UUID(owner_id),
        )
        return _api_key(row) if row else None

    async def revoke_all_of(self, owner_id: str) -> list[str]:
        rows = await self.db.pool.fetch(
            "UPDATE tripsage_auth.api_keys SET revoked_at = now()"
            " WHERE owner_id = $1 AND revoked_at IS NULL RETURNING id",
            uuid.UUID(owner_id),
        )
        return [str(row["id"]) for row in rows]


class ProviderKeyStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, user_id: str, service: str) -> ProviderKeyRecord | None:
        row = await self.db.pool.fetchrow(
            "SELECT * FROM tripsage_auth.provider_keys WHERE user_id = $1 AND service = $2",
            uuid.UUID(user_id),
            service,
        )
        return _provider_key(row) if row else None

    async def of_user(self, user_id: str) -> list[ProviderKeyRecord]:
        rows = await self.db.pool.fetch(
            "SELECT * FROM tripsage_auth.provider_keys WHERE user_id = $1 ORDER BY service",
            uuid.UUID(user_id),
        )
        return [_provider_key(row) for row in rows]

    async def put(
        self,
        *,
        user_id: str,
        service: str,
        sealed: Sealed,
        last_four: str,
        status: str,
        status_message: str,
        validated: bool,
    ) -> tuple[ProviderKeyRecord, bool]:
        """(stored key, replaced an existing one)."""
        row = await self.db.pool.fetchrow(
            """
            INSERT INTO tripsage_auth.provider_keys AS k
                (user_id, service, ciphertext, nonce, salt, key_id, key_version, last_four,
                 status, status_message, last_validated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,
                    CASE WHEN $11 THEN now() END)
            ON CONFLICT (user_id, service) DO UPDATE SET
                ciphertext = EXCLUDED.ciphertext, nonce = EXCLUDED.nonce,
                salt = EXCLUDED.salt, key_id = EXCLUDED.key_id,
                key_version = EXCLUDED.key_version, last_four = EXCLUDED.last_four,
                status = EXCLUDED.status, status_message = EXCLUDED.status_message,
                last_validated_at = EXCLUDED.last_validated_at, last_used_at = NULL,
                updated_at = now()
            RETURNING *, (xmax <> 0) AS replaced
            """,
            uuid.UUID(user_id),
            service,
            *_sealed_columns(sealed),
            last_four,
            status,
            status_message,
            validated,
        )
        assert row is not None
        return _provider_key(row), bool(row["replaced"])

    async def set_status(
        self, user_id: str, service: str, status: str, message: str
    ) -> ProviderKeyRecord | None:
        row = await self.db.pool.fetchrow(
            """
            UPDATE tripsage_auth.provider_keys
            SET status = $3, status_message = $4, last_validated_at = now()
            WHERE user_id = $1 AND service = $2
            RETURNING *
            """,
            uuid.UUID(user_id),
            service,
            status,
            message,
        )
        return _provider_key(row) if row else None

    async def mark_used(self, user_id: str, service: str) -> None:
        await self.db.pool.execute(
            "UPDATE tripsage_auth.provider_keys SET last_used_at = now()"
            " WHERE user_id = $1 AND service = $2",
            uuid.UUID(user_id),
            service,
        )

    async def delete(self, user_id: str, service: str) -> bool:
        deleted = await self.db.pool.fetchval(
            "DELETE FROM tripsage_auth.provider_keys WHERE user_id = $1 AND service = $2"
            " RETURNING 1",
            uuid.UUID(user_id),
            service,
        )
        return bool(deleted)

    async def add_event(
        self,
        user_id: str,
        service: str,
        kind: str,
        *,
        actor: str,
        status: str = "",
        detail: str = "",
    ) -> None:
        await self.db.pool.execute(
            """
            INSERT INTO tripsage_auth.provider_key_events
                (id, user_id, service, kind, status, actor, detail)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            """,
            uuid.uuid4(),
            uuid.UUID(user_id),
            service,
            kind,
            status,
            actor,
            detail,
        )

    async def events(
        self, user_id: str, service: str, *, limit: int, after: tuple[datetime, str] | None
    ) -> list[ProviderKeyEventRecord]:
        args: list[Any] = [uuid.UUID(user_id), service]
        query = page_query(
            "SELECT * FROM tripsage_auth.provider_key_events",
            ["user_id = $1", "service = $2"],
            args,
            after=after,
            limit=limit,
        )
        rows = await self.db.pool.fetch(query, *args)
        return [record_from_row(ProviderKeyEventRecord, r) for r in rows]

    async def all_sealed(self) -> list[ProviderKeyRecord]:
        rows = await self.db.pool.fetch("SELECT * FROM tripsage_auth.provider_keys")
        return [_provider_key(row) for row in rows]

    async def replace_sealed(
        self,
        conn: asyncpg.Connection[Any] | asyncpg.pool.PoolConnectionProxy[Any],
        user_id: str,
        service: str,
        sealed: Sealed,
    ) -> None:
        await conn.execute(
            """
            UPDATE tripsage_auth.provider_keys
            SET ciphertext = $3, nonce = $4, salt = $5, key_id = $6, key_version = $7
            WHERE user_id = $1 AND service = $2
            """,
            uuid.UUID(user_id),
            service,
            *_sealed_columns(sealed),
        )
