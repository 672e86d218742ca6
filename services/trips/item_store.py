"""Itinerary item rows, ordered by day (undated last), then position."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import asyncpg

from services.trips.items import ItemDraft, ItemFilter, ItemLocation, ItineraryItem
from tripsage_core.rows import money_columns, money_from_row, record_from_row

_COLUMNS = """
    i.id, i.trip_id, i.kind, i.title, i.description, i.start_time, i.end_time, i.time_zone,
    i.location, i.cost_currency, i.cost_units, i.cost_nanos, i.booking_status,
    i.booking_reference, i.provider, i.offer_id, i.offer_snapshot, i.position, i.created_by,
    i.version, i.created_at, i.updated_at
"""
# Undated items sort after every day; asyncpg sends date.max as 'infinity'.
_DAY_KEY = "coalesce(i.day, 'infinity'::date)"
_ORDER = f"{_DAY_KEY}, i.position, i.id"


def _item(row: asyncpg.Record) -> ItineraryItem:
    return record_from_row(
        ItineraryItem,
        row,
        location=ItemLocation.from_json(row["location"]) if row["location"] else None,
        cost=money_from_row(row, "cost"),
    )


def _values(draft: ItemDraft) -> list[Any]:
    return [
        draft.kind,
        draft.title,
        draft.description,
        draft.day,
        draft.start_time,
        draft.end_time,
        draft.time_zone,
        draft.location.as_json() if draft.location else None,
        *money_columns(draft.cost),
        draft.booking_status,
        draft.booking_reference,
        draft.provider,
        draft.offer_id,
        draft.offer_snapshot,
    ]


class ItemRows:
    def __init__(self, conn: asyncpg.Connection[Any]) -> None:
        self.conn = conn

    async def next_position(self, trip_id: str, day: date | None) -> int:
        value = await self.conn.fetchval(
            "SELECT coalesce(max(position) + 1, 0) FROM tripsage_trips.itinerary_items"
            " WHERE trip_id = $1 AND day IS NOT DISTINCT FROM $2",
            uuid.UUID(trip_id),
            day,
        )
        return int(value)

    async def count(self, trip_id: str) -> int:
        value = await self.conn.fetchval(
            "SELECT count(*) FROM tripsage_trips.itinerary_items WHERE trip_id = $1",
            uuid.UUID(trip_id),
        )
        return int(value or 0)

    async def insert(self, trip_id: str, created_by: str, draft: ItemDraft) -> ItineraryItem:
        position = await self.next_position(trip_id, draft.day)
        row = await self.conn.fetchrow(
            f"""
            INSERT INTO tripsage_trips.itinerary_items AS i
                (id, trip_id, created_by, position, kind, title, description, day, start_time,
                 end_time, time_zone, location, cost_currency, cost_units, cost_nanos,
                 booking_status, booking_reference, provider, offer_id, offer_snapshot)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                    $18, $19, $20)
            RETURNING {_COLUMNS}
            """,  # noqa: S608
            uuid.uuid4(),
            uuid.UUID(trip_id),
            uuid.UUID(created_by),
            position,
            *_values(draft),
        )
        assert row is not None
        return _item(row)

    async def get(self, trip_id: str, item_id: uuid.UUID) -> ItineraryItem | None:
        row = await self.conn.fetchrow(
            f"SELECT {_COLUMNS} FROM tripsage_trips.itinerary_items i"  # noqa: S608
            " WHERE i.trip_id = $1 AND i.id = $2",
            uuid.UUID(trip_id),
            item_id,
        )
        return _item(row) if row else None

    async def page(self, trip_id: str, query: ItemFilter) -> list[ItineraryItem]:
        where = ["i.trip_id = $1"]
        args: list[Any] = [uuid.UUID(trip_id)]

        def arg(value: Any) -> str:
            args.append(value)
            return f"${len(args)}"

        if query.day is not None:
            where.append(f"i.day = {arg(query.day)}")
        if query.kind is not None:
            where.append(f"i.kind = {arg(query.kind)}")
        if query.after is not None:
            day, position, last_id = query.after
            where.append(
                f"({_DAY_KEY}, i.position, i.id) > "
                f"({arg(day or date.max)}::date, {arg(position)}::int, {arg(uuid.UUID(last_id))})"
            )
        rows = await self.conn.fetch(
            f"SELECT {_COLUMNS} FROM tripsage_trips.itinerary_items i"  # noqa: S608
            f" WHERE {' AND '.join(where)} ORDER BY {_ORDER} LIMIT {arg(query.limit)}",
            *args,
        )
        return [_item(row) for row in rows]

    async def all(self, trip_id: str) -> list[ItineraryItem]:
        rows = await self.conn.fetch(
            f"SELECT {_COLUMNS} FROM tripsage_trips.itinerary_items i WHERE i.trip_id = $1"  # noqa: S608
            f" ORDER BY {_ORDER}",
            uuid.UUID(trip_id),
        )
        return [_item(row) for row in rows]

    async def update(
        self, item: ItineraryItem, version: int, draft: ItemDraft
    ) -> ItineraryItem | None:
        """The updated item, or None when `version` is no longer current. An item moved to
        another day goes to the end of that day."""
        position = item.position
        if draft.day != item.day:
            position = await self.next_position(item.trip_id, draft.day)
        row = await self.conn.fetchrow(
            f"""
            UPDATE tripsage_trips.itinerary_items AS i SET
                kind = $4, title = $5, description = $6, day = $7, start_time = $8,
                end_time = $9, time_zone = $10, location = $11, cost_currency = $12,
                cost_units = $13, cost_nanos = $14, booking_status = $15,
                booking_reference = $16, provider = $17, offer_id = $18, offer_snapshot = $19,
                position = $3, version = i.version + 1, updated_at = now()
            WHERE i.id = $1 AND i.version = $2
            RETURNING {_COLUMNS}
            """,  # noqa: S608
            uuid.UUID(item.id),
            version,
            position,
            *_values(draft),
        )
        return _item(row) if row else None

    async def delete(self, item_id: str) -> bool:
        result = await self.conn.execute(
            "DELETE FROM tripsage_trips.itinerary_items WHERE id = $1", uuid.UUID(item_id)
        )
        return bool(result.endswith(" 1"))

    async def day_items(self, trip_id: str, day: date | None) -> list[ItineraryItem]:
        rows = await self.conn.fetch(
            f"SELECT {_COLUMNS} FROM tripsage_trips.itinerary_items i"  # noqa: S608
            " WHERE i.trip_id = $1 AND i.day IS NOT DISTINCT FROM $2"
            " ORDER BY i.position, i.id FOR UPDATE",
            uuid.UUID(trip_id),
            day,
        )
        return [_item(row) for row in rows]

    async def set_positions(self, ordered_ids: list[str]) -> None:
        await self.conn.execute(
            "UPDATE tripsage_trips.itinerary_items AS i"
            " SET position = o.ordinality - 1, version = i.version + 1, updated_at = now()"
            " FROM unnest($1::uuid[]) WITH ORDINALITY AS o(id, ordinality) WHERE i.id = o.id",
            [uuid.UUID(i) for i in ordered_ids],
        )
