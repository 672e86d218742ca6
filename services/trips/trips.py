"""Trip use cases for an authenticated caller. No transport here."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from services.trips import limits
from services.trips.access import (
    EDIT,
    OWNER,
    load_trip,
    parse_uuid,
    require_publisher,
    trip_not_found,
)
from services.trips.items import BookingStatus, ItemDraft
from services.trips.model import Trip, TripDraft, TripStatus, Visibility, validate
from services.trips.public_view import items_for_reader, trip_for_reader
from services.trips.store import TransferOutcome, TripQuery, TripStore
from services.trips.writes import check_etag, stale, unless_stale
from tripsage_core.errors import FailedPrecondition, InvalidArgument
from tripsage_core.idempotency import IdempotencyKey, IdempotencyLedger
from tripsage_core.identity import Principal
from tripsage_core.keyset import Page, Position, keyset_page
from tripsage_core.page_budget import PAGE_BYTES

EDITABLE_FIELDS = {
    "title", "description", "start_date", "end_date", "destinations", "budget", "travelers",
    "status", "tags", "visibility", "preferences",
}  # fmt: skip


@dataclass(frozen=True)
class TripFilter:
    status: str | None = None
    start_from: date | None = None
    start_to: date | None = None
    text: str | None = None
    order: str = "update_time"  # or "start_date"


class Trips:
    def __init__(self, store: TripStore, ledger: IdempotencyLedger) -> None:
        self.store = store
        self.ledger = ledger

    async def create(
        self, caller: Principal, draft: TripDraft, attempt: IdempotencyKey | None = None
    ) -> Trip:
        validate(draft)
        async with self.store.unit(caller) as uow:

            async def create() -> Trip:
                trip = await uow.trips.insert(caller.user_id, draft)
                await uow.activity.record(
                    trip.id, caller.user_id, "trip_created", f"created the trip {trip.title!r}"
                )
                return trip

            return await self.ledger.create_once(
                uow.conn, caller.user_id, attempt, create=create,
                replay=lambda first: uow.trips.get(uuid.UUID(first)), what="trip",
            )  # fmt: skip

    async def get(self, caller: Principal, trip_id: str) -> Trip:
        async with self.store.unit(caller) as uow:
            return trip_for_reader(await load_trip(uow, trip_id))

    async def list(
        self, caller: Principal, filters: TripFilter, *, page_size: int, page_token: str
    ) -> Page[Trip]:
        if filters.start_from and filters.start_to and filters.start_to < filters.start_from:
            raise InvalidArgument.for_field("start_date_to", "must not be before start_date_from")
        fingerprint = (
            f"trips|{filters.order}|{filters.status}|{filters.start_from}|{filters.start_to}"
            f"|{filters.text}"
        )

        async def fetch(limit: int, after: tuple[object, str] | None) -> list[Trip]:
            async with self.store.unit(caller) as uow:
                return await uow.trips.page(
                    TripQuery(
                        limit=limit,
                        order=filters.order,
                        status=filters.status,
                        start_from=filters.start_from,
                        start_to=filters.start_to,
                        text=filters.text,
                        after=after,
                    )
                )

        def position_of(last: Trip) -> Position:
            key = last.updated_at if filters.order == "update_time" else last.start_date or date.max
            assert key is not None
            return {"k": key.isoformat(), "id": last.id}

        def bound_of(position: Position) -> tuple[object, str]:
            key = position["k"]
            parsed = (
                datetime.fromisoformat if filters.order == "update_time" else date.fromisoformat
            )
            return parsed(key), str(uuid.UUID(position["id"]))

        page = await keyset_page(
            fetch, size=page_size, token=page_token, fingerprint=fingerprint,
            position_of=position_of, bound_of=bound_of, byte_budget=PAGE_BYTES,
        )  # fmt: skip
        return page

    async def update(
        self, caller: Principal, trip_id: str, changes: TripDraft, fields: set[str], etag: str
    ) -> Trip:
        unknown = fields - EDITABLE_FIELDS
        if unknown:
            raise InvalidArgument.for_field(
                "update_mask", f"cannot update {', '.join(sorted(unknown))}"
            )
        async with self.store.unit(caller) as uow:
            current = await load_trip(uow, trip_id, EDIT, field="trip.id")
            check_etag(etag, current.etag, "trip")
            if "visibility" in fields and changes.visibility != current.visibility:
                require_publisher(current)
            merged = replace(current)
            for name in fields:
                if name == "travelers":
                    merged.adults, merged.children = changes.adults, changes.children
                else:
                    setattr(merged, name, getattr(changes, name))
            validate(merged)
            updated = unless_stale(await uow.trips.update(trip_id, current.version, merged), "trip")
            await uow.activity.record(
                trip_id,
                caller.user_id,
                "trip_updated",
                f"changed {', '.join(sorted(fields))}",
                {"fields": sorted(fields)},
            )
        return updated

    async def delete(self, caller: Principal, trip_id: str, etag: str) -> None:
        async with self.store.unit(caller) as uow:
            trip = await load_trip(uow, trip_id, OWNER)
            check_etag(etag, trip.etag, "trip")
            if not await uow.trips.delete(trip_id):
                raise trip_not_found(trip_id)

    async def duplicate(
        self,
        caller: Principal,
        trip_id: str,
        *,
        title: str,
        start_date: date | None,
        include_items: bool,
        attempt: IdempotencyKey | None = None,
    ) -> Trip:
        async with self.store.unit(caller) as uow:
            found = await load_trip(uow, trip_id)
            source = trip_for_reader(found)

            async def create() -> Trip:
                shift = (
                    start_date - source.start_date
                    if start_date and source.start_date
                    else timedelta(0)
                )
                draft = _shifted_copy(
                    source, shift, title or f"Copy of {source.title}"[: limits.TITLE]
                )
                validate(draft)
                copy = await uow.trips.insert(caller.user_id, draft)
                copied = 0
                if include_items:
                    for item in items_for_reader(found, await uow.items.all(source.id)):
                        await uow.items.insert(copy.id, caller.user_id, _idea_copy(item, shift))
                        copied += 1
                await uow.activity.record(
                    copy.id,
                    caller.user_id,
                    "trip_created",
                    f"created the trip as a copy of {source.title!r}",
                    {"copied_from": source.id, "items_copied": copied},
                )
                return copy

            return await self.ledger.create_once(
                uow.conn, caller.user_id, attempt, create=create,
                replay=lambda first: uow.trips.get(uuid.UUID(first)), what="trip",
            )  # fmt: skip

    async def transfer_ownership(
        self, caller: Principal, trip_id: str, new_owner_id: str, etag: str
    ) -> Trip:
        new_owner = parse_uuid(new_owner_id, "new_owner_id", "user")
        async with self.store.unit(caller) as uow:
            trip = await load_trip(uow, trip_id, OWNER)
            check_etag(etag, trip.etag, "trip")
            if str(new_owner) == caller.user_id:
                raise InvalidArgument.for_field("new_owner_id", "you already own this trip")
            outcome = await uow.trips.transfer(trip_id, str(new_owner), trip.version)
            if outcome is TransferOutcome.NOT_COLLABORATOR:
                raise FailedPrecondition(
                    "the new owner must be an active collaborator of the trip",
                    reason="NOT_A_COLLABORATOR",
                )
            if outcome is TransferOutcome.STALE:
                raise stale("trip")
            if outcome is not TransferOutcome.OK:
                raise trip_not_found(trip_id)
            return await load_trip(uow, trip_id)


def _shifted(day: date | None, shift: timedelta) -> date | None:
    return day + shift if day else None


def _shifted_copy(source: Trip, shift: timedelta, title: str) -> TripDraft:
    return TripDraft(
        title=title,
        description=source.description,
        start_date=_shifted(source.start_date, shift),
        end_date=_shifted(source.end_date, shift),
        destinations=[
            replace(
                d,
                arrival_date=_shifted(d.arrival_date, shift),
                departure_date=_shifted(d.departure_date, shift),
            )
            for d in source.destinations
        ],
        budget=source.budget,
        adults=source.adults,
        children=source.children,
        status=TripStatus.PLANNING,
        tags=list(source.tags),
        visibility=Visibility.PRIVATE,
        preferences=dict(source.preferences),
    )


def _idea_copy(item: ItemDraft, shift: timedelta) -> ItemDraft:
    """The item as an idea on the shifted dates: bookings belong to the original trip."""
    return ItemDraft(
        kind=item.kind,
        title=item.title,
        description=item.description,
        # Wall-clock arithmetic in the item's zone keeps 09:00 at 09:00 across DST.
        start_time=item.local(item.start_time) + shift if item.start_time else None,
        end_time=item.local(item.end_time) + shift if item.end_time else None,
        time_zone=item.time_zone,
        location=item.location,
        cost=item.cost,
        booking_status=BookingStatus.IDEA,
    )
