"""Trip use cases for an authenticated caller. No transport here."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass, replace
from datetime import date

from services.trips.model import Trip, TripDraft, validate
from services.trips.store import TripQuery, TripStore, key_from_token, sort_key
from tripsage_core.errors import Aborted, InvalidArgument, NotFound, PermissionDenied
from tripsage_core.identity import Principal

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
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
    order: str = "start_date"


@dataclass(frozen=True)
class TripPage:
    trips: list[Trip]
    next_page_token: str


def _not_found(trip_id: str) -> NotFound:
    # The same answer whether the trip does not exist or is someone else's.
    return NotFound(f"trip {trip_id} not found", reason="TRIP_NOT_FOUND")


def _trip_uuid(trip_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(trip_id)
    except ValueError:
        raise InvalidArgument.for_field("trip_id", "is not a valid trip id") from None


class Trips:
    def __init__(self, store: TripStore) -> None:
        self.store = store

    async def create(self, caller: Principal, draft: TripDraft) -> Trip:
        validate(draft)
        return await self.store.insert(caller.user_id, draft)

    async def get(self, caller: Principal, trip_id: str) -> Trip:
        trip = await self.store.get(caller.user_id, _trip_uuid(trip_id))
        if trip is None:
            raise _not_found(trip_id)
        return trip

    async def list(
        self, caller: Principal, filters: TripFilter, *, page_size: int, page_token: str
    ) -> TripPage:
        if page_size < 0:
            raise InvalidArgument.for_field("page_size", "must not be negative")
        limit = min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        after = _decode_token(page_token, filters) if page_token else None
        trips = await self.store.list(
            caller.user_id,
            TripQuery(
                limit=limit + 1,
                order=filters.order,
                status=filters.status,
                start_from=filters.start_from,
                start_to=filters.start_to,
                text=filters.text,
                after=after,
            ),
        )
        next_token = ""
        if len(trips) > limit:
            trips = trips[:limit]
            next_token = _encode_token(trips[-1], filters)
        return TripPage(trips, next_token)

    async def update(
        self, caller: Principal, trip_id: str, changes: TripDraft, fields: set[str], etag: str
    ) -> Trip:
        unknown = fields - EDITABLE_FIELDS
        if unknown:
            raise InvalidArgument.for_field(
                "update_mask", f"cannot update {', '.join(sorted(unknown))}"
            )
        current = await self.get(caller, trip_id)
        if current.access == "view":
            raise PermissionDenied("you can view this trip but not change it", reason="READ_ONLY")
        if etag and etag != current.etag:
            raise Aborted(
                "the trip changed since you read it; reload and retry", reason="STALE_ETAG"
            )
        merged = replace(current)
        for name in fields:
            if name == "travelers":
                merged.adults, merged.children = changes.adults, changes.children
            else:
                setattr(merged, name, getattr(changes, name))
        validate(merged)
        updated = await self.store.update(caller.user_id, trip_id, current.version, merged)
        if updated is None:
            raise Aborted("the trip changed while saving; reload and retry", reason="STALE_ETAG")
        return updated

    async def delete(self, caller: Principal, trip_id: str, etag: str) -> None:
        trip = await self.get(caller, trip_id)
        if trip.access != "owner":
            raise PermissionDenied("only the owner can delete a trip", reason="NOT_OWNER")
        if etag and etag != trip.etag:
            raise Aborted(
                "the trip changed since you read it; reload and retry", reason="STALE_ETAG"
            )
        if not await self.store.delete(caller.user_id, trip_id):
            raise _not_found(trip_id)


def _filter_fingerprint(filters: TripFilter) -> str:
    return (
        f"{filters.order}|{filters.status}|{filters.start_from}|{filters.start_to}|{filters.text}"
    )


def _encode_token(last: Trip, filters: TripFilter) -> str:
    key = sort_key(last, filters.order)
    payload = {"k": key.isoformat(), "id": last.id, "f": _filter_fingerprint(filters)}
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def _decode_token(token: str, filters: TripFilter) -> tuple[object, str]:
    try:
        padded = token + "=" * (-len(token) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded))
        key = key_from_token(payload["k"], filters.order)
        uuid.UUID(payload["id"])
        fingerprint = payload["f"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise InvalidArgument.for_field("page_token", "is not a token this list returned") from None
    if fingerprint != _filter_fingerprint(filters):
        raise InvalidArgument.for_field(
            "page_token", "was issued for other filters; start again without it"
        )
    return key, payload["id"]
