"""PostgreSQL storage of the auth service (schema tripsage_auth)."""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg

from tripsage_core.database import Database
from tripsage_core.errors import Unauthenticated
from tripsage_core.identity import Role
from tripsage_core.rows import page_query, record_from_row


@dataclass
class UserRecord:
    id: str
    email: str
    full_name: str
    role: Role
    disabled: bool
    email_verified: bool
    preferences: dict[str, Any]
    version: int
    created_at: datetime
    updated_at: datetime
    password_hash: str | None = field(default=None, repr=False)


@dataclass
class SessionRecord:
    id: str
    user_id: str
    expires_at: datetime
    revoked_at: datetime | None


def hash_refresh_token(token: str) -> bytes:
    # Refresh tokens are 256 random bits, so a plain SHA-256 is enough (no brute force).
    return hashlib.sha256(token.encode()).digest()


def refuse_disabled(user: UserRecord | None) -> UserRecord:
    """`user`, unless there is none or the account is disabled (UNAUTHENTICATED)."""
    if user is None or user.disabled:
        raise Unauthenticated("this account is disabled", reason="USER_DISABLED")
    return user


def _user(row: asyncpg.Record) -> UserRecord:
    return record_from_row(UserRecord, row)


class UserStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create_user(
        self,
        *,
        email: str,
        email_normalized: str,
        full_name: str,
        password_hash: str | None = None,
        email_verified: bool = False,
    ) -> UserRecord | None:
        """The new user, or None when the email is taken. Without a password hash, a user
        who signs in only through an identity provider."""
        row = await self.db.pool.fetchrow(
            """
            INSERT INTO tripsage_auth.users
                (id, email, email_normalized, full_name, password_hash, email_verified)
            VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (email_normalized) DO NOTHING
            RETURNING *
            """,
            uuid.uuid4(),
            email,
            email_normalized,
            full_name,
            password_hash,
            email_verified,
        )
        return _user(row) if row else None

    async def user_by_email(self, email_normalized: str) -> UserRecord | None:
        row = await self.db.pool.fetchrow(
            "SELECT * FROM tripsage_auth.users WHERE email_normalized = $1", email_normalized
        )
        return _user(row) if row else None

    async def user_by_id(self, user_id: str) -> UserRecord | None:
        row = await self.db.pool.fetchrow(
            "SELECT * FROM tripsage_auth.users WHERE id = $1", uuid.UUID(user_id)
        )
        return _user(row) if row else None

    async def active_user(self, user_id: str) -> UserRecord:
        """The user, who must still exist and not be disabled: the check of every credential."""
        return refuse_disabled(await self.user_by_id(user_id))

    async def set_password_hash(self, user_id: str, password_hash: str | None) -> None:
        await self.db.pool.execute(
            "UPDATE tripsage_auth.users SET password_hash = $2 WHERE id = $1",
            uuid.UUID(user_id),
            password_hash,
        )

    async def create_session(
        self, *, user_id: str, refresh_token: str, expires_at: datetime
    ) -> str:
        session_id = uuid.uuid4()
        async with self.db.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO tripsage_auth.sessions (id, user_id, expires_at) VALUES ($1, $2, $3)",
                session_id,
                uuid.UUID(user_id),
                expires_at,
            )
            await conn.execute(
                "INSERT INTO tripsage_auth.refresh_tokens (token_hash, session_id) VALUES ($1, $2)",
                hash_refresh_token(refresh_token),
                session_id,
            )
        return str(session_id)

    async def rotate_refresh_token(
        self, old_token: str, new_token: str
    ) -> tuple[SessionRecord | None, bool]:
        """(session, reused). Marks the old token rotated and stores the new one, atomically.

        `reused` is True when the old token had already been rotated: the caller
        treats that as theft and revokes the session.
        """
        async with self.db.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                """
                SELECT r.rotated_at, s.id, s.user_id, s.expires_at, s.revoked_at
                FROM tripsage_auth.refresh_tokens r
                JOIN tripsage_auth.sessions s ON s.id = r.session_id
                WHERE r.token_hash = $1
                FOR UPDATE OF r, s
                """,
                hash_refresh_token(old_token),
            )
            if row is None:
                return None, False
            session = record_from_row(SessionRecord, row)
            if row["rotated_at"] is not None:
                return session, True
            if session.revoked_at is not None:
                return session, False
            await conn.execute(
                "UPDATE tripsage_auth.refresh_tokens SET rotated_at = now() WHERE token_hash = $1",
                hash_refresh_token(old_token),
            )
            await conn.execute(
                "INSERT INTO tripsage_auth.refresh_tokens (token_hash, session_id) VALUES ($1, $2)",
                hash_refresh_token(new_token),
                row["id"],
            )
            await conn.execute(
                "UPDATE tripsage_auth.sessions SET last_used_at = now() WHERE id = $1", row["id"]
            )
        return session, False

    async def session_for_refresh_token(self, token: str) -> SessionRecord | None:
        row = await self.db.pool.fetchrow(
            """
            SELECT s.id, s.user_id, s.expires_at, s.revoked_at
            FROM tripsage_auth.refresh_tokens r
            JOIN tripsage_auth.sessions s ON s.id = r.session_id
            WHERE r.token_hash = $1
            """,
            hash_refresh_token(token),
        )
        if row is None:
            return None
        return record_from_row(SessionRecord, row)

    async def revoke_session(self, session_id: str, reason: str) -> None:
        await self.db.pool.execute(
            "UPDATE tripsage_auth.sessions SET revoked_at = now(), revoked_reason = $2"
            " WHERE id = $1 AND revoked_at IS NULL",
            uuid.UUID(session_id),
            reason,
        )

    async def revoke_user_sessions(
        self, user_id: str, reason: str, *, keep_session_id: str = ""
    ) -> list[str]:
        """Ends every open session of the user (but `keep_session_id`); returns their ids."""
        rows = await self.db.pool.fetch(
            "UPDATE tripsage_auth.sessions SET revoked_at = now(), revoked_reason = $2"
            " WHERE user_id = $1 AND revoked_at IS NULL AND id::text <> $3 RETURNING id",
            uuid.UUID(user_id),
            reason,
            keep_session_id,
        )
        return [str(row["id"]) for row in rows]

    async def update_profile(
        self,
        user_id: str,
        *,
        full_name: str,
        preferences: dict[str, Any],
        expected_version: int | None,
    ) -> UserRecord | None:
        """The updated user, or None when `expected_version` is stale."""
        row = await self.db.pool.fetchrow(
            """
            UPDATE tripsage_auth.users
            SET full_name = $2, preferences = $3, version = version + 1, updated_at = now()
            WHERE id = $1 AND ($4::int IS NULL OR version = $4)
            RETURNING *
            """,
            uuid.UUID(user_id),
            full_name,
            preferences,
            expected_version,
        )
        return _user(row) if row else None

    async def set_flag(
        self, user_id: str, *, disabled: bool | None = None, role: str | None = None
    ) -> UserRecord | None:
        row = await self.db.pool.fetchrow(
            """
            UPDATE tripsage_auth.users
            SET disabled = coalesce($2, disabled), role = coalesce($3, role),
                version = version + 1, updated_at = now()
            WHERE id = $1
            RETURNING *
            """,
            uuid.UUID(user_id),
            disabled,
            role,
        )
        return _user(row) if row else None

    async def page(
        self,
        *,
        query: str,
        role: str | None,
        include_disabled: bool,
        limit: int,
        after: tuple[datetime, str] | None,
    ) -> list[UserRecord]:
        conditions = ["true"]
        args: list[Any] = []
        if query:
            args.append(f"%{re.sub(r'[%_\\]', '', query.lower())}%")
            conditions.append(
                f"(email_normalized LIKE ${len(args)} OR lower(full_name) LIKE ${len(args)})"
            )
        if role:
            args.append(role)
            conditions.append(f"role = ${len(args)}")
        if not include_disabled:
            conditions.append("NOT disabled")
        query = page_query(
            "SELECT * FROM tripsage_auth.users", conditions, args, after=after, limit=limit
        )
        rows = await self.db.pool.fetch(query, *args)
        return [_user(row) for row in rows]

    async def create_password_reset(self, user_id: str, token: str, expires_at: datetime) -> None:
        await self.db.pool.execute(
            "INSERT INTO tripsage_auth.password_resets (token_hash, user_id, expires_at)"
            " VALUES ($1, $2, $3)",
            hash_refresh_token(token),
            uuid.UUID(user_id),
            expires_at,
        )

    async def use_password_reset(self, token: str, password_hash: str) -> str | None:
        """Sets the new password if the token is unused and current; returns the user id."""
        async with self.db.pool.acquire() as conn, conn.transaction():
            user_id = await conn.fetchval(
                """
                UPDATE tripsage_auth.password_resets SET used_at = now()
                WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()
                RETURNING user_id
                """,
                hash_refresh_token(token),
            )
            if user_id is None:
                return None
            await conn.execute(
                "UPDATE tripsage_auth.password_resets SET used_at = now()"
                " WHERE user_id = $1 AND used_at IS NULL",
                user_id,
            )
            await conn.execute(
                "UPDATE tripsage_auth.users SET password_hash = $2, updated_at = now()"
                " WHERE id = $1",
                user_id,
                password_hash,
            )
        return str(user_id)

    async def create_email_verification(
        self, user_id: str, email_normalized: str, token: str, expires_at: datetime
    ) -> None:
        await self.db.pool.execute(
            "INSERT INTO tripsage_auth.email_verifications"
            " (token_hash, user_id, email_normalized, expires_at) VALUES ($1, $2, $3, $4)",
            hash_refresh_token(token),
            uuid.UUID(user_id),
            email_normalized,
            expires_at,
        )

    async def use_email_verification(self, token: str) -> UserRecord | None:
        """Verifies the user's address if the token is unused, current, and was sent to the
        address the user still has; returns the updated user."""
        async with self.db.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                """
                UPDATE tripsage_auth.email_verifications SET used_at = now()
                WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()
                RETURNING user_id, email_normalized
                """,
                hash_refresh_token(token),
            )
            if row is None:
                return None
            user = await conn.fetchrow(
                "UPDATE tripsage_auth.users SET email_verified = true,"
                " version = version + 1, updated_at = now()"
                " WHERE id = $1 AND email_normalized = $2 RETURNING *",
                row["user_id"],
                row["email_normalized"],
            )
        return _user(user) if user is not None else None

    async def lookup(self, *, user_ids: list[uuid.UUID], emails: list[str]) -> list[UserRecord]:
        """Users with any of these ids or normalised emails (disabled users left out)."""
        rows = await self.db.pool.fetch(
            "SELECT * FROM tripsage_auth.users"
            " WHERE (id = ANY($1::uuid[]) OR email_normalized = ANY($2::text[]))"
            " AND NOT disabled",
            user_ids,
            emails,
        )
        return [_user(row) for row in rows]

    async def user_by_identity(self, provider: str, subject: str) -> UserRecord | None:
        row = await self.db.pool.fetchrow(
            "SELECT u.* FROM tripsage_auth.identities i"
            " JOIN tripsage_auth.users u ON u.id = i.user_id"
            " WHERE i.provider = $1 AND i.subject = $2",
            provider,
            subject,
        )
        return _user(row) if row else None

    async def link_identity(self, user_id: str, provider: str, subject: str, email: str) -> None:
        await self.db.pool.execute(
            "INSERT INTO tripsage_auth.identities (provider, subject, user_id, email)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT (provider, subject) DO NOTHING",
            provider,
            subject,
            uuid.UUID(user_id),
            email,
        )

    async def mark_email_verified(self, user_id: str) -> None:
        await self.db.pool.execute(
            "UPDATE tripsage_auth.users SET email_verified = true WHERE id = $1",
            uuid.UUID(user_id),
        )
