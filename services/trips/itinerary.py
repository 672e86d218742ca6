"""Itinerary use cases: items, their order, the trip summary and exports. No transport here."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date

from services.trips import limits
from services.trips.access import EDIT, MEMBER, READ, load_trip, parse_uuid
from services.trips.items import (
    EDITABLE_ITEM_FIELDS,
    ItemDraft,
    ItemFilter,
    ItemPage,
    ItineraryItem,
    validate_item,
)
from services.trips.model import Trip
from services.trips.planning import Summary, summarize
from services.trips.public_view import items_for_reader, trip_for_reader
from services.trips.sharing import Activity
from services.trips.store import TripStore
from services.trips.writes import check_etag, stale
from tripsage_core.errors import FailedPrecondition, InvalidArgument, NotFound
from tripsage_core.idempotency import IdempotencyKey, IdempotencyLedger
from tripsage_core.identity import Principal
from tripsage_core.money import RateTable
from tripsage_core.page_budget import fitting
from tripsage_core.page_tokens import decode_token, encode_token, page_limit, token_field

DEFAULT_ITEM_PAGE = 100
MAX_ITEM_PAGE = 500


@dataclass(frozen=True)
class ActivityPage:
    activities: list[Activity]
    next_page_token: str


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
    ) -> ItemPage:
        limit = page_limit(page_size, default=DEFAULT_ITEM_PAGE, maximum=MAX_ITEM_PAGE)
        fingerprint = f"items|{trip_id}|{day}|{kind}"
        after = None
        if page_token:
            position = decode_token(page_token, fingerprint)
            try:
                raw_day = token_field(position, "d")
                after = (
                    date.fromisoformat(raw_day) if raw_day else None,
                    int(token_field(position, "p")),
                    str(parse_uuid(str(token_field(position, "id")), "page_token", "item")),
                )
            except (TypeError, ValueError):
                raise InvalidArgument.for_field(
                    "page_token", "is not a token this list returned"
                ) from None
        async with self.store.unit(caller) as uow:
            trip = await load_trip(uow, trip_id, READ)
            items = await uow.items.page(
                trip_id, ItemFilter(day=day, kind=kind, limit=limit + 1, after=after)
            )
        token = ""
        limit = fitting(items[:limit])  # rows and bytes: a page fits a message
        if len(items) > limit:
            items = items[:limit]
            last = items[-1]
            token = encode_token(
                {
                    "d": last.day.isoformat() if last.day else "",
                    "p": last.position,
                    "id": last.id,
                },
                fingerprint,
            )
        return ItemPage(items_for_reader(trip, items), token)

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
            updated = await uow.items.update(current, current.version, merged)
            if updated is None:
                raise stale("item")
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
    ) -> ActivityPage:
        limit = page_limit(page_size)
        fingerprint = f"activity|{trip_id}"
        before = None
        if page_token:
            try:
                before = int(token_field(decode_token(page_token, fingerprint), "s"))
            except (TypeError, ValueError):
                raise InvalidArgument.for_field(
                    "page_token", "is not a token this list returned"
                ) from None
        async with self.store.unit(caller) as uow:
            await load_trip(uow, trip_id, MEMBER)
            entries = await uow.activity.page(trip_id, limit + 1, before)
        token = ""
        limit = fitting(entries[:limit])  # rows and bytes: a page fits a message
        if len(entries) > limit:
            entries = entries[:limit]
            token = encode_token({"s": entries[-1].seq}, fingerprint)
        return ActivityPage(entries, token)
