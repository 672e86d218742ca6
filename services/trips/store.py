"""PostgreSQL storage of trips. Every query runs under row level security as the caller."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

import asyncpg

from services.trips.activity_store import ActivityRows
from services.trips.collaborator_store import CollaboratorRows
from services.trips.item_store import ItemRows
from services.trips.model import Destination, Trip, TripDraft
from tripsage_core.database import Database, user_transaction
from tripsage_core.emails import normalize_email
from tripsage_core.identity import Principal
from tripsage_core.rows import money_columns, money_from_row, record_from_row

CALLER_ROLE = "tripsage_trips_caller"
# The caller's token email and whether it is verified, transaction-local like app.user_id;
# invitations match the email only when it is verified (migration 0003).
EMAIL_SETTING = "app.user_email"
EMAIL_VERIFIED_SETTING = "app.email_verified"

_TRIP_COLUMNS = """
    t.id, t.owner_id, t.title, t.description, t.start_date, t.end_date, t.destinations,
    t.budget_currency, t.budget_units, t.budget_nanos, t.adults, t.children, t.status, t.tags,
    t.visibility, t.preferences, t.version, t.created_at, t.updated_at"""
_COLUMNS = _TRIP_COLUMNS + ", tripsage_trips.caller_access(t.id) AS access"


def _trip(row: asyncpg.Record) -> Trip:
    return record_from_row(
        Trip,
        row,
        destinations=[Destination.from_json(d) for d in row["destinations"]],
        budget=money_from_row(row, "budget"),
        tags=list(row["tags"]),
        access=row["access"] or "owner",
    )


def _values(draft: TripDraft) -> list[Any]:
    return [
        draft.title,
        draft.description,
        draft.start_date,
        draft.end_date,
        [d.as_json() for d in draft.destinations],
        *money_columns(draft.budget),
        draft.adults,
        draft.children,
        draft.status,
        draft.tags,
        draft.visibility,
        draft.preferences,
    ]


class TransferOutcome(StrEnum):
    """What tripsage_trips.transfer_ownership answers (migration 0002)."""

    OK = "ok"
    NOT_FOUND = "not_found"
    NOT_OWNER = "not_owner"
    NOT_COLLABORATOR = "not_collaborator"
    STALE = "stale"


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


class TripRows:
    """The trips table, as seen by the caller of one transaction."""

    def __init__(self, conn: asyncpg.Connection[Any], caller_id: str) -> None:
        self.conn = conn
        self.caller_id = caller_id

    async def insert(self, owner_id: str, draft: TripDraft) -> Trip:
        row = await self.conn.fetchrow(
            f"""
            INSERT INTO tripsage_trips.trips AS t
                (id, owner_id, title, description, start_date, end_date, destinations,
                 budget_currency, budget_units, budget_nanos, adults, children, status, tags,
                 visibility, preferences)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
            RETURNING {_COLUMNS}
            """,
            uuid.uuid4(),
            uuid.UUID(owner_id),
            *_values(draft),
        )
        assert row is not None
        return _trip(row)

    async def get(self, trip_id: uuid.UUID, *, for_update: bool = False) -> Trip | None:
        lock = " FOR UPDATE" if for_update else ""
        row = await self.conn.fetchrow(
            f"SELECT {_COLUMNS} FROM tripsage_trips.trips t WHERE t.id = $1{lock}", trip_id
        )
        return _trip(row) if row else None

    async def page(self, query: TripQuery) -> list[Trip]:
        # Two index-ordered branches, each cut at the page size and then merged (indexes and
        # caller_memberships() of migration 0005): the caller's own trips and the trips shared
        # with them. RLS still applies to every row; the branches leave out strangers' public
        # trips and keep the planner on the caller's rows instead of the whole table.
        args: list[Any] = [uuid.UUID(self.caller_id)]

        def arg(value: Any) -> str:
            args.append(value)
            return f"${len(args)}"

        if query.order == "update_time":
            key, direction = "t.updated_at", "DESC"
        else:
            key, direction = "coalesce(t.start_date, 'infinity'::date)", "ASC"
        where: list[str] = []
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
                f"(t.title ILIKE {p} OR t.description ILIKE {p}"
                f" OR EXISTS (SELECT 1 FROM jsonb_array_elements(t.destinations) d"
                f" WHERE d->>'name' ILIKE {p}))"
            )
        if query.after is not None:
            op = "<" if direction == "DESC" else ">"
            where.append(
                f"({key}, t.id) {op} ({arg(query.after[0])}, {arg(uuid.UUID(query.after[1]))})"
            )
        filters = "".join(f" AND {condition}" for condition in where)
        limit = arg(query.limit)
        order = f"ORDER BY {key} {direction}, t.id {direction} LIMIT {limit}"
        sql = f"""
            SELECT * FROM (
                (SELECT {_TRIP_COLUMNS}, 'owner' AS access, {key} AS sort_key
                 FROM tripsage_trips.trips t
                 WHERE t.owner_id = $1{filters} {order})
                UNION ALL
                (SELECT {_TRIP_COLUMNS}, m.role AS access, {key} AS sort_key
                 FROM tripsage_trips.caller_memberships() m
                 JOIN tripsage_trips.trips t ON t.id = m.trip_id
                 WHERE t.owner_id <> $1{filters} {order})
            ) page
            ORDER BY sort_key {direction}, id {direction} LIMIT {limit}
        """
        rows = await self.conn.fetch(sql, *args)
        return [_trip(row) for row in rows]

    async def update(self, trip_id: str, version: int, draft: TripDraft) -> Trip | None:
        """The updated trip, or None when `version` is no longer current."""
        row = await self.conn.fetchrow(
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

    async def lock(self, trip_id: str) -> None:
        """Holds the trip row until commit, so counted inserts under it cannot race."""
        await self.conn.execute(
            "SELECT 1 FROM tripsage_trips.trips WHERE id = $1 FOR UPDATE", uuid.UUID(trip_id)
        )

    async def touch(self, trip_id: str) -> None:
        """Marks the trip changed (its items or people changed), so caches and etags move on."""
        await self.conn.execute(
            "UPDATE tripsage_trips.trips SET updated_at = now() WHERE id = $1", uuid.UUID(trip_id)
        )

    async def delete(self, trip_id: str) -> bool:
        result = await self.conn.execute(
            "DELETE FROM tripsage_trips.trips WHERE id = $1", uuid.UUID(trip_id)
        )
        return bool(result.endswith(" 1"))

    async def transfer(
        self, trip_id: str, new_owner_id: str, expected_version: int | None
    ) -> TransferOutcome:
        """What tripsage_trips.transfer_ownership (migration 0002) answered."""
        outcome = await self.conn.fetchval(
            "SELECT tripsage_trips.transfer_ownership($1, $2, $3)",
            uuid.UUID(trip_id),
            uuid.UUID(new_owner_id),
            expected_version,
        )
        return TransferOutcome(outcome)


class TripsUnit:
    """One request's transaction, run as the caller under row level security."""

    def __init__(self, conn: asyncpg.Connection[Any], caller_id: str) -> None:
        self.conn = conn
        self.trips = TripRows(conn, caller_id)
        self.items = ItemRows(conn)
        self.collaborators = CollaboratorRows(conn)
        self.activity = ActivityRows(conn)


class TripStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    @asynccontextmanager
    async def unit(self, caller: Principal) -> AsyncIterator[TripsUnit]:
        """A transaction as `caller`, with their email for the invitation functions."""
        settings = (
            {
                EMAIL_SETTING: normalize_email(caller.email),
                EMAIL_VERIFIED_SETTING: "true" if caller.email_verified else "false",
            }
            if caller.email
            else None
        )
        async with user_transaction(self.db.pool, CALLER_ROLE, caller.user_id, settings) as conn:
            yield TripsUnit(conn, caller.user_id)

    async def trip_exists(self, trip_id: str) -> bool:
        """Whether the trip still exists, whoever may see it: only for telling a watcher
        who was on the trip why their watch ended (deleted, or their access ended)."""
        found = await self.db.pool.fetchval(
            "SELECT EXISTS (SELECT 1 FROM tripsage_trips.trips WHERE id = $1)", uuid.UUID(trip_id)
        )
        return bool(found)
