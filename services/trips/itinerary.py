"""Itinerary use cases: items, their order, the trip summary and exports. No transport here."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date

from services.trips import limits
from services.trips.access import EDIT, MEMBER, READ, load_trip, parse_uuid
from services.trips.items import (
    EDITABLE_ITEM_FIELDS,
    ItemDraft,
    ItemFilter,
    ItineraryItem,
    validate_item,
)
from services.trips.model import Trip
from services.trips.planning import Summary, summarize
from services.trips.public_view import items_for_reader, trip_for_reader
from services.trips.sharing import Activity
from services.trips.store import TripStore
from services.trips.writes import check_etag, unless_stale
from tripsage_core.errors import FailedPrecondition, InvalidArgument, NotFound
from tripsage_core.idempotency import IdempotencyKey, IdempotencyLedger
from tripsage_core.identity import Principal
from tripsage_core.keyset import Page, Position, keyset_page
from tripsage_core.money import RateTable
from tripsage_core.page_budget import PAGE_BYTES

DEFAULT_ITEM_PAGE = 100
MAX_ITEM_PAGE = 500


def _item_not_found(item_id: str) -> NotFound:
    return NotFound(f"itinerary item {item_id} not found", reason="ITEM_NOT_FOUND")


def _describe(item: ItemDraft) -> str:
    return f"{item.kind} {item.title!r}"


class Itinerary:
    def __init__(self, store: TripStore, ledger: IdempotencyLedger, rates: RateTable) -> None:
        self.store = store
        self.ledger = ledger
        self.rates = rates

    async def create(
        self,
        caller: Principal,
        trip_id: str,
        draft: ItemDraft,
        *,
        snapshot_size: int = 0,
        attempt: IdempotencyKey | None = None,
    ) -> ItineraryItem:
        async with self.store.unit(caller) as uow:
            await load_trip(uow, trip_id, EDIT)
            # Locked so that concurrent creates cannot pass the item cap together.
            await uow.trips.lock(trip_id)
            validate_item(draft, snapshot_size)

            async def create() -> ItineraryItem:
                if await uow.items.count(trip_id) >= limits.ITEMS_PER_TRIP:
                    raise FailedPrecondition(
                        f"a trip has at most {limits.ITEMS_PER_TRIP} itinerary items",
                        reason="TOO_MANY_ITEMS",
                    )
                item = await uow.items.insert(trip_id, caller.user_id, draft)
                await uow.activity.record(
                    trip_id, caller.user_id, "item_added", f"added the {_describe(item)}",
                    {"item_id": item.id, "kind": item.kind},
                )  # fmt: skip
                await uow.trips.touch(trip_id)
                return item

            return await self.ledger.create_once(
                uow.conn, caller.user_id, attempt, create=create,
                replay=lambda first: uow.items.get(trip_id, uuid.UUID(first)), what="item",
            )  # fmt: skip

    async def get(self, caller: Principal, trip_id: str, item_id: str) -> ItineraryItem:
        target = parse_uuid(item_id, "item_id", "item")
        async with self.store.unit(caller) as uow:
            trip = await load_trip(uow, trip_id, READ)
            item = await uow.items.get(trip_id, target)
        if item is None:
            raise _item_not_found(item_id)
        return items_for_reader(trip, [item])[0]

    async def list_items(
        self,
        caller: Principal,
        trip_id: str,
        *,
        day: date | None,
        kind: str | None,
        page_size: int,
        page_token: str,
    ) -> Page[ItineraryItem]:
        trip: Trip | None = None

        async def fetch(limit: int, after: ItemBound | None) -> list[ItineraryItem]:
            nonlocal trip
            async with self.store.unit(caller) as uow:
                trip = await load_trip(uow, trip_id, READ)
                return await uow.items.page(
                    trip_id, ItemFilter(day=day, kind=kind, limit=limit, after=after)
                )

        page = await keyset_page(
            fetch, size=page_size, token=page_token, fingerprint=f"items|{trip_id}|{day}|{kind}",
            position_of=_item_position, bound_of=_item_bound,
            default=DEFAULT_ITEM_PAGE, maximum=MAX_ITEM_PAGE, byte_budget=PAGE_BYTES,
        )  # fmt: skip
        assert trip is not None  # fetch ran
        return Page(items_for_reader(trip, page.rows), page.next_token)

    async def update(
        self,
        caller: Principal,
        trip_id: str,
        item_id: str,
        changes: ItemDraft,
        fields: set[str],
        etag: str,
        *,
        snapshot_size: int = 0,
    ) -> ItineraryItem:
        unknown = fields - EDITABLE_ITEM_FIELDS
        if unknown:
            raise InvalidArgument.for_field(
                "update_mask", f"cannot update {', '.join(sorted(unknown))}"
            )
        target = parse_uuid(item_id, "item.id", "item")
        async with self.store.unit(caller) as uow:
            await load_trip(uow, trip_id, EDIT, field="item.trip_id")
            current = await uow.items.get(trip_id, target)
            if current is None:
                raise _item_not_found(item_id)
            check_etag(etag, current.etag, "item")
            merged = replace(current)
            for name in fields:
                setattr(merged, name, getattr(changes, name))
            validate_item(merged, snapshot_size if "offer_snapshot" in fields else 0)
            updated = unless_stale(await uow.items.update(current, current.version, merged), "item")
            await uow.activity.record(
                trip_id, caller.user_id, "item_updated",
                f"changed {', '.join(sorted(fields))} of the {_describe(updated)}",
                {"item_id": updated.id, "fields": sorted(fields)},
            )  # fmt: skip
            await uow.trips.touch(trip_id)
        return updated

    async def delete(self, caller: Principal, trip_id: str, item_id: str, etag: str) -> None:
        target = parse_uuid(item_id, "item_id", "item")
        async with self.store.unit(caller) as uow:
            await load_trip(uow, trip_id, EDIT)
            current = await uow.items.get(trip_id, target)
            if current is None:
                raise _item_not_found(item_id)
            check_etag(etag, current.etag, "item")
            await uow.items.delete(current.id)
            await uow.activity.record(
                trip_id, caller.user_id, "item_removed", f"removed the {_describe(current)}",
                {"item_id": current.id, "kind": current.kind},
            )  # fmt: skip
            await uow.trips.touch(trip_id)

    async def reorder(
        self, caller: Principal, trip_id: str, day: date | None, item_ids: list[str]
    ) -> list[ItineraryItem]:
        if len(item_ids) > limits.ITEMS_PER_TRIP:
            raise InvalidArgument.for_field(
                "item_ids", f"a trip has at most {limits.ITEMS_PER_TRIP} items"
            )
        wanted = [str(parse_uuid(i, f"item_ids[{n}]", "item")) for n, i in enumerate(item_ids)]
        async with self.store.unit(caller) as uow:
            await load_trip(uow, trip_id, EDIT)
            current = await uow.items.day_items(trip_id, day)
            if len(set(wanted)) != len(wanted) or set(wanted) != {i.id for i in current}:
                raise InvalidArgument.for_field(
                    "item_ids", "must list every item of that day exactly once"
                )
            await uow.items.set_positions(wanted)
            label = day.isoformat() if day else "undated items"
            await uow.activity.record(
                trip_id, caller.user_id, "items_reordered", f"reordered {label}",
                {"day": day.isoformat() if day else None, "item_ids": wanted},
            )  # fmt: skip
            await uow.trips.touch(trip_id)
            return await uow.items.day_items(trip_id, day)

    async def summary(self, caller: Principal, trip_id: str) -> Summary:
        async with self.store.unit(caller) as uow:
            trip = await load_trip(uow, trip_id, READ)
            items = await uow.items.all(trip_id)
            people = await uow.collaborators.count_active(trip_id)
        return summarize(trip, items, collaborator_count=people, rates=self.rates)

    async def contents(self, caller: Principal, trip_id: str) -> tuple[Trip, list[ItineraryItem]]:
        """The trip and every item, for exports."""
        async with self.store.unit(caller) as uow:
            trip = await load_trip(uow, trip_id, READ)
            return trip_for_reader(trip), items_for_reader(trip, await uow.items.all(trip_id))

    async def activity(
        self, caller: Principal, trip_id: str, *, page_size: int, page_token: str
    ) -> Page[Activity]:
        async def fetch(limit: int, before: int | None) -> list[Activity]:
            async with self.store.unit(caller) as uow:
                await load_trip(uow, trip_id, MEMBER)
                return await uow.activity.page(trip_id, limit, before)

        page = await keyset_page(
            fetch, size=page_size, token=page_token, fingerprint=f"activity|{trip_id}",
            position_of=lambda entry: {"s": entry.seq},
            bound_of=lambda position: int(position["s"]), byte_budget=PAGE_BYTES,
        )  # fmt: skip
        return page


# Items page by (day, position, id); a token names them "d", "p" and "id".
type ItemBound = tuple[date | None, int, str]


def _item_position(last: ItineraryItem) -> Position:
    return {"d": last.day.isoformat() if last.day else "", "p": last.position, "id": last.id}


def _item_bound(position: Position) -> ItemBound:
    raw_day = position["d"]
    day = date.fromisoformat(raw_day) if raw_day else None
    return day, int(position["p"]), str(uuid.UUID(position["id"]))
