"""Collaborator rows and the invitee-side functions of migration 0002."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from services.trips.sharing import Collaborator, Invitation
from tripsage_core.rows import record_from_row

_COLUMNS = """
    c.id, c.trip_id, c.user_id, c.email, c.full_name, c.role, c.state, c.added_by,
    c.created_at, c.updated_at, c.version
"""


def _collaborator(row: asyncpg.Record) -> Collaborator:
    return record_from_row(Collaborator, row, invited_by=str(row["added_by"]))


class CollaboratorRows:
    def __init__(self, conn: asyncpg.Connection[Any]) -> None:
        self.conn = conn

    async def page(
        self, trip_id: str, limit: int, after: tuple[datetime, str] | None
    ) -> list[Collaborator]:
        """Oldest first, keyset after (created_at, id)."""
        rows = await self.conn.fetch(
            f"SELECT {_COLUMNS} FROM tripsage_trips.collaborators c WHERE c.trip_id = $1"  # noqa: S608
            " AND ($2::timestamptz IS NULL OR (c.created_at, c.id) > ($2, $3::uuid))"
            " ORDER BY c.created_at, c.id LIMIT $4",
            uuid.UUID(trip_id),
            after[0] if after else None,
            uuid.UUID(after[1]) if after else None,
            limit,
        )
        return [_collaborator(row) for row in rows]

    async def get(self, trip_id: str, collaborator_id: uuid.UUID) -> Collaborator | None:
        row = await self.conn.fetchrow(
            f"SELECT {_COLUMNS} FROM tripsage_trips.collaborators c"  # noqa: S608
            " WHERE c.trip_id = $1 AND c.id = $2",
            uuid.UUID(trip_id),
            collaborator_id,
        )
        return _collaborator(row) if row else None

    async def find(self, trip_id: str, *, user_id: str | None, email: str) -> Collaborator | None:
        """The row for this person on the trip, by user or by invited email."""
        row = await self.conn.fetchrow(
            f"SELECT {_COLUMNS} FROM tripsage_trips.collaborators c WHERE c.trip_id = $1"  # noqa: S608
            " AND (c.user_id = $2 OR (c.email <> '' AND c.email = $3)) LIMIT 1",
            uuid.UUID(trip_id),
            uuid.UUID(user_id) if user_id else None,
            email,
        )
        return _collaborator(row) if row else None

    async def insert(
        self, trip_id: str, *, email: str, role: str, added_by: str, message: str
    ) -> Collaborator:
        """A pending invitation; accept_invitation() (0002) gives it a user."""
        row = await self.conn.fetchrow(
            f"""
            INSERT INTO tripsage_trips.collaborators AS c
                (trip_id, email, role, state, added_by, message)
            VALUES ($1, $2, $3, 'pending', $4, $5)
            RETURNING {_COLUMNS}
            """,  # noqa: S608
            uuid.UUID(trip_id),
            email,
            role,
            uuid.UUID(added_by),
            message,
        )
        assert row is not None
        return _collaborator(row)

    async def update_role(
        self, collaborator_id: str, version: int, role: str
    ) -> Collaborator | None:
        """The updated row, or None when `version` is no longer current."""
        row = await self.conn.fetchrow(
            f"""
            UPDATE tripsage_trips.collaborators AS c
            SET role = $3, version = c.version + 1, updated_at = now()
            WHERE c.id = $1 AND c.version = $2
            RETURNING {_COLUMNS}
            """,  # noqa: S608
            uuid.UUID(collaborator_id),
            version,
            role,
        )
        return _collaborator(row) if row else None

    async def delete(self, collaborator_id: str) -> bool:
        result = await self.conn.execute(
            "DELETE FROM tripsage_trips.collaborators WHERE id = $1", uuid.UUID(collaborator_id)
        )
        return bool(result.endswith(" 1"))

    async def count_all(self, trip_id: str) -> int:
        """Members and pending invitations."""
        count = await self.conn.fetchval(
            "SELECT count(*) FROM tripsage_trips.collaborators WHERE trip_id = $1",
            uuid.UUID(trip_id),
        )
        return int(count or 0)

    async def count_active(self, trip_id: str) -> int:
        count = await self.conn.fetchval(
            "SELECT count(*) FROM tripsage_trips.collaborators"
            " WHERE trip_id = $1 AND state = 'active'",
            uuid.UUID(trip_id),
        )
        return int(count or 0)

    async def invitations(
        self, limit: int, before: tuple[datetime, str] | None
    ) -> list[Invitation]:
        """The caller's pending invitations, newest first, keyset before (created_at, id)."""
        rows = await self.conn.fetch(
            "SELECT * FROM tripsage_trips.caller_invitations() i"
            " WHERE $1::timestamptz IS NULL OR (i.created_at, i.id) < ($1, $2::uuid)"
            " ORDER BY i.created_at DESC, i.id DESC LIMIT $3",
            before[0] if before else None,
            uuid.UUID(before[1]) if before else None,
            limit,
        )
        return [record_from_row(Invitation, row) for row in rows]

    async def accept(self, invitation_id: uuid.UUID) -> str | None:
        """The trip joined, or None when no such invitation is addressed to the caller."""
        trip_id = await self.conn.fetchval(
            "SELECT tripsage_trips.accept_invitation($1)", invitation_id
        )
        return str(trip_id) if trip_id else None

    async def decline(self, invitation_id: uuid.UUID) -> bool:
        return bool(
            await self.conn.fetchval("SELECT tripsage_trips.decline_invitation($1)", invitation_id)
        )
