"""PostgreSQL storage of trips. Every query runs under row level security as the caller."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import asyncpg

from services.trips.model import Destination, Money, Trip, TripDraft
from tripsage_core.database import Database, user_transaction

CALLER_ROLE = "tripsage_trips_caller"

_COLUMNS = """
    t.id, t.owner_id, t.title, t.description, t.start_date, t.end_date, t.destinations,
    t.budget_currency, t.budget_units, t.budget_nanos, t.adults, t.children, t.status, t.tags,
    t.visibility, t.preferences, t.version, t.created_at, t.updated_at,
    tripsage_trips.caller_access(t.id) AS access
"""


def _trip(row: asyncpg.Record) -> Trip:
    budget = None
    if row["budget_currency"]:
        budget = Money(row["budget_currency"], row["budget_units"] or 0, row["budget_nanos"] or 0)
    return Trip(
        id=str(row["id"]),
        owner_id=str(row["owner_id"]),
        title=row["title"],
        description=row["description"],
        start_date=row["start_date"],
        end_date=row["end_date"],
        destinations=[Destination.from_json(d) for d in row["destinations"]],
        budget=budget,
        adults=row["adults"],
        children=row["children"],
        status=row["status"],
        tags=list(row["tags"]),
        visibility=row["visibility"],
        preferences=row["preferences"],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        access=row["access"] or "owner",
    )


def _values(draft: TripDraft) -> list[Any]:
    budget = draft.budget
    return [
        draft.title,
        draft.description,
        draft.start_date,
        draft.end_date,
        [d.as_json() for d in draft.destinations],
        budget.currency if budget else None,
        budget.units if budget else None,
        budget.nanos if budget else None,
        draft.adults,
        draft.children,
        draft.status,
        draft.tags,
        draft.visibility,
        draft.preferences,
    ]


@dataclass(frozen=True)
class TripQuery:
    """A page of the caller's trips (owned and shared), filtered and in keyset order."""

    limit: int
    order: str = "start_date"  # or "update_time"
    status: str | None = None
    start_from: date | None = None
    start_to: date | None = None
    text: str | None = None
    after: tuple[Any, str] | None = None  # (sort key, id) of the last row already seen


class TripStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    @asynccontextmanager
    async def as_caller(self, user_id: str) -> AsyncIterator[asyncpg.Connection[Any]]:
        async with user_transaction(self.db.pool, CALLER_ROLE, user_id) as conn:
            yield conn

    async def insert(self, user_id: str, draft: TripDraft) -> Trip:
        async with self.as_caller(user_id) as conn:
            row = await conn.fetchrow(
                f"""
                INSERT INTO tripsage_trips.trips AS t
                    (id, owner_id, title, description, start_date, end_date, destinations,
                     budget_currency, budget_units, budget_nanos, adults, children, status, tags,
                     visibility, preferences)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
                RETURNING {_COLUMNS}
                """,
                uuid.uuid4(),
                uuid.UUID(user_id),
                *_values(draft),
            )
        assert row is not None
        return _trip(row)

    async def get(self, user_id: str, trip_id: uuid.UUID) -> Trip | None:
        async with self.as_caller(user_id) as conn:
            row = await conn.fetchrow(
                f"SELECT {_COLUMNS} FROM tripsage_trips.trips t WHERE t.id = $1", trip_id
            )
        return _trip(row) if row else None

    async def list(self, user_id: str, query: TripQuery) -> list[Trip]:
        # No owner filter on purpose: the RLS policy already limits rows to the
        # caller's own and shared trips.
        where: list[str] = []
        args: list[Any] = []

        def arg(value: Any) -> str:
            args.append(value)
            return f"${len(args)}"

        if query.order == "update_time":
            key, direction = "t.updated_at", "DESC"
        else:
            key, direction = "coalesce(t.start_date, 'infinity'::date)", "ASC"
        if query.status:
            where.append(f"t.status = {arg(query.status)}")
        if query.start_from:
            where.append(f"t.start_date >= {arg(query.start_from)}")
        if query.start_to:
            where.append(f"t.start_date <= {arg(query.start_to)}")
        if query.text:
            pattern = (
                "%" + query.text.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
            )
            p = arg(pattern)
            where.append(
                f"(t.title ILIKE {p} OR t.description ILIKE {p} OR t.destinations::text ILIKE {p})"
            )
        if query.after is not None:
            op = "<" if direction == "DESC" else ">"
            where.append(
                f"({key}, t.id) {op} ({arg(query.after[0])}, {arg(uuid.UUID(query.after[1]))})"
            )
        sql = f"SELECT {_COLUMNS} FROM tripsage_trips.trips t"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY {key} {direction}, t.id {direction} LIMIT {arg(query.limit)}"
        async with self.as_caller(user_id) as conn:
            rows = await conn.fetch(sql, *args)
        return [_trip(row) for row in rows]

    async def update(
        self, user_id: str, trip_id: str, version: int, draft: TripDraft
    ) -> Trip | None:
        """The updated trip, or None when `version` is no longer current."""
        async with self.as_caller(user_id) as conn:
            row = await conn.fetchrow(
                f"""
                UPDATE tripsage_trips.trips AS t SET
                    title = $3, description = $4, start_date = $5, end_date = $6,
                    destinations = $7, budget_currency = $8, budget_units = $9, budget_nanos = $10,
                    adults = $11, children = $12, status = $13, tags = $14, visibility = $15,
                    preferences = $16, version = t.version + 1, updated_at = now()
                WHERE t.id = $1 AND t.version = $2
                RETURNING {_COLUMNS}
                """,
                uuid.UUID(trip_id),
                version,
                *_values(draft),
            )
        return _trip(row) if row else None

    async def delete(self, user_id: str, trip_id: str) -> bool:
        async with self.as_caller(user_id) as conn:
            result = await conn.execute(
                "DELETE FROM tripsage_trips.trips WHERE id = $1", uuid.UUID(trip_id)
            )
        return bool(result.endswith(" 1"))


def sort_key(trip: Trip, order: str) -> Any:
    if order == "update_time":
        return trip.updated_at
    # Undated trips sort last; asyncpg sends date.max as 'infinity', matching the query.
    return trip.start_date or date.max


def key_from_token(value: str, order: str) -> Any:
    if order == "update_time":
        return datetime.fromisoformat(value)
    return date.fromisoformat(value)
