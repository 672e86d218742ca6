"""Watching a trip: its committed changes as events, to a caller who may see them.

Every event comes from the activity log read as the caller (row level security), so a
watcher sees exactly what ListTripActivity would show them; access is checked again
before each batch, and a caller who lost it gets one final event and the watch ends.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

from services.trips.access import MEMBER, load_trip, parse_uuid
from services.trips.change_feed import Subscription, TripChangeFeed
from services.trips.sharing import Activity
from services.trips.store import TripStore
from tripsage_core.errors import InvalidArgument
from tripsage_core.identity import Principal

# Entries read per transaction while catching up.
BATCH = 100
_EVENT_ID = re.compile(r"[0-9]{1,18}")


class TripEventKind(StrEnum):
    CHANGED = "changed"
    ACCESS_ENDED = "access_ended"
    TRIP_DELETED = "trip_deleted"


@dataclass(frozen=True)
class TripEvent:
    kind: TripEventKind
    trip_id: str
    # The activity entry's seq: the event id. A final event repeats the last one sent.
    seq: int
    activity: Activity | None = None

    @property
    def final(self) -> bool:
        return self.kind is not TripEventKind.CHANGED


def parse_event_id(value: str) -> int | None:
    """A client's last event id: empty for none, else a seq this service handed out."""
    if not value:
        return None
    if not _EVENT_ID.fullmatch(value):
        raise InvalidArgument.for_field("last_event_id", "is not an event id of this trip")
    return int(value)


# Checks the caller's credentials again (expiry, revocation); raises when they no longer hold.
CredentialCheck = Callable[[], Awaitable[None]]


class TripWatching:
    def __init__(
        self,
        store: TripStore,
        feed: TripChangeFeed,
        *,
        recheck_seconds: float = 2.0,
        poll_seconds: float = 30.0,
    ) -> None:
        self.store = store
        self.feed = feed
        # How often a quiet watch re-checks the caller's credentials, and reads the log
        # without a wake-up (a safety net; 1 s while the feed is reconnecting).
        self.recheck_seconds = recheck_seconds
        self.poll_seconds = poll_seconds

    async def open(self, caller: Principal, trip_id: str, last_event_id: str) -> TripWatch:
        """A watch of a trip the caller is a member of (NOT_FOUND for anyone else), from
        after `last_event_id` or, without it, from now."""
        parse_uuid(trip_id, "trip_id", "trip")
        resume = parse_event_id(last_event_id)
        # Subscribed before reading where the log stands, so no change falls in between.
        subscription = await self.feed.subscribe(trip_id)
        try:
            async with self.store.unit(caller) as uow:
                await load_trip(uow, trip_id, MEMBER)
                newest = await uow.activity.last_seq(trip_id)
            if resume is not None and resume > newest:
                raise InvalidArgument.for_field("last_event_id", "is not an event id of this trip")
        except BaseException:
            subscription.close()
            raise
        return TripWatch(self, caller, trip_id, subscription, newest if resume is None else resume)


class TripWatch:
    """One open watch; `events` yields until the caller loses access (or is cancelled)."""

    def __init__(
        self,
        watching: TripWatching,
        caller: Principal,
        trip_id: str,
        subscription: Subscription,
        seq: int,
    ) -> None:
        self.watching = watching
        self.caller = caller
        self.trip_id = trip_id
        self.subscription = subscription
        self.seq = seq

    def close(self) -> None:
        self.subscription.close()

    async def events(self, still_signed_in: CredentialCheck) -> AsyncIterator[TripEvent]:
        store = self.watching.store
        try:
            while True:
                async with store.unit(self.caller) as uow:
                    trip = await uow.trips.get(parse_uuid(self.trip_id, "trip_id", "trip"))
                    member = trip is not None and trip.allows(MEMBER)
                    entries = (
                        await uow.activity.after(self.trip_id, self.seq, BATCH) if member else []
                    )
                if not member:
                    # Telling a former member that the trip is gone reveals nothing new.
                    gone = not await store.trip_exists(self.trip_id)
                    kind = TripEventKind.TRIP_DELETED if gone else TripEventKind.ACCESS_ENDED
                    yield TripEvent(kind, self.trip_id, self.seq)
                    return
                for entry in entries:
                    self.seq = entry.seq
                    yield TripEvent(TripEventKind.CHANGED, self.trip_id, entry.seq, entry)
                if len(entries) < BATCH:
                    await self._wait(still_signed_in)
        finally:
            self.subscription.close()

    async def _wait(self, still_signed_in: CredentialCheck) -> None:
        """Until a change is announced (or the poll interval passes), re-checking the
        caller's credentials every few seconds meanwhile."""
        watching = self.watching
        waited = 0.0
        while True:
            await still_signed_in()
            poll = watching.poll_seconds if watching.feed.live else 1.0
            step = min(watching.recheck_seconds, poll)
            if await self.subscription.wait(step):
                await still_signed_in()
                return
            waited += step
            if waited >= poll:
                return
