"""The activity log table: append-only for callers, readable by the trip's members."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from services.trips.sharing import Activity
from tripsage_core.rows import record_from_row


class ActivityRows:
    def __init__(self, conn: asyncpg.Connection[Any]) -> None:
        self.conn = conn

    async def record(
        self,
        trip_id: str,
        actor_id: str,
        kind: str,
        summary: str,
        details: dict[str, Any] | None = None,
    ) -> None:
        await self.conn.execute(
            "INSERT INTO tripsage_trips.trip_activity (trip_id, actor_id, kind, summary, details)"
            " VALUES ($1, $2, $3, $4, $5)",
            uuid.UUID(trip_id),
            uuid.UUID(actor_id),
            kind,
            summary,
            details or {},
        )

    async def page(self, trip_id: str, limit: int, before_seq: int | None) -> list[Activity]:
        """Newest first; `before_seq` continues after the last entry of a previous page."""
        rows = await self.conn.fetch(
            "SELECT seq, id, trip_id, actor_id, kind, summary, details, created_at"
            " FROM tripsage_trips.trip_activity"
            " WHERE trip_id = $1 AND ($2::bigint IS NULL OR seq < $2)"
            " ORDER BY seq DESC LIMIT $3",
            uuid.UUID(trip_id),
            before_seq,
            limit,
        )
        return [record_from_row(Activity, row) for row in rows]

    async def after(self, trip_id: str, after_seq: int, limit: int) -> list[Activity]:
        """Oldest first, the entries after `after_seq` (what a watcher has not seen yet)."""
        rows = await self.conn.fetch(
            "SELECT seq, id, trip_id, actor_id, kind, summary, details, created_at"
            " FROM tripsage_trips.trip_activity"
            " WHERE trip_id = $1 AND seq > $2"
            " ORDER BY seq LIMIT $3",
            uuid.UUID(trip_id),
            after_seq,
            limit,
        )
        return [record_from_row(Activity, row) for row in rows]

    async def last_seq(self, trip_id: str) -> int:
        """The newest entry's position (0 for none): where a watch without history starts."""
        found = await self.conn.fetchval(
            "SELECT max(seq) FROM tripsage_trips.trip_activity WHERE trip_id = $1",
            uuid.UUID(trip_id),
        )
        return int(found or 0)
