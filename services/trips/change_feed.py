"""Committed trip changes, heard once per process and handed to this process's watchers.

Migration 0006 NOTIFYs channel ``tripsage_trips_changes`` after every commit that adds
an activity entry ("<trip id>:<seq>") or deletes a trip ("<trip id>:deleted"). Each
trips replica keeps ONE connection LISTENing to it (not one per watcher, which would
use up the database's connections) and wakes the watchers of the named trip. A
notification carries no user data and is only a wake-up: a watcher reads what changed
from the activity log itself, as the caller, so nothing is lost when a notification is
(the connection drops: every watcher is woken to catch up once it is back, and polls
the log meanwhile). Notifications cannot pass a transaction-mode pooler, so the feed
listens on POSTGRES_DIRECT_URL when a pooler fronts POSTGRES_URL; with no session
connection known at all it does not listen, and watchers poll the log every second
(Settings.postgres_listen_url). See docs/trips.md "WatchTrip".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import asyncpg

from tripsage_core.errors import Unavailable

CHANNEL = "tripsage_trips_changes"
logger = logging.getLogger("tripsage.trips.watch")


class Subscription:
    """One watcher's interest in one trip: woken on each of its committed changes."""

    def __init__(self, feed: TripChangeFeed, trip_id: str) -> None:
        self.feed = feed
        self.trip_id = trip_id
        self._woken = asyncio.Event()
        self.closed = False

    def wake(self) -> None:
        self._woken.set()

    async def wait(self, seconds: float) -> bool:
        """Whether a change (or a reconnect) woke it within `seconds`."""
        try:
            async with asyncio.timeout(seconds):
                await self._woken.wait()
        except TimeoutError:
            return False
        self._woken.clear()
        return True

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.feed._forget(self)


class TripChangeFeed:
    """The process's listening connection and the watchers it serves."""

    def __init__(
        self,
        dsn: str | None,
        *,
        max_watchers: int,
        ping_seconds: float = 10.0,
        retry_seconds: float = 1.0,
    ) -> None:
        self.dsn = dsn
        self.max_watchers = max_watchers
        self.ping_seconds = ping_seconds
        self.retry_seconds = retry_seconds
        self._by_trip: dict[str, set[Subscription]] = {}
        self._count = 0
        self._live = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def watcher_count(self) -> int:
        """Open watches in this process (each WatchTrip call holds one)."""
        return self._count

    @property
    def live(self) -> bool:
        """Whether the listening connection is up (else watchers poll the log)."""
        return self._live.is_set()

    async def subscribe(self, trip_id: str) -> Subscription:
        """A subscription to the trip's changes; listening starts with the first one."""
        if self._count >= self.max_watchers:
            raise Unavailable(
                "this server is watching as many trips as it may; retry shortly",
                reason="WATCH_LIMIT",
                retry_after_seconds=5,
            )
        subscription = Subscription(self, trip_id)
        self._by_trip.setdefault(trip_id, set()).add(subscription)
        self._count += 1
        if self.dsn is None:
            return subscription  # nowhere to listen: watchers poll
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._listen(self.dsn), name="trip-change-feed")
        if not self._live.is_set():
            # A first watcher should hear the very next change; if the database is slow
            # to answer, it polls the log until the connection is up.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(5):
                    await self._live.wait()
        return subscription

    def _forget(self, subscription: Subscription) -> None:
        watchers = self._by_trip.get(subscription.trip_id)
        if watchers is not None and subscription in watchers:
            watchers.discard(subscription)
            self._count -= 1
            if not watchers:
                del self._by_trip[subscription.trip_id]

    def _heard(self, conn: Any, pid: int, channel: str, payload: object) -> None:
        trip_id = str(payload).partition(":")[0]
        for subscription in self._by_trip.get(trip_id, ()):
            subscription.wake()

    def _wake_all(self) -> None:
        for watchers in self._by_trip.values():
            for subscription in watchers:
                subscription.wake()

    async def _listen(self, dsn: str) -> None:
        """Keeps one LISTEN connection up, pinging it; reconnects after a loss."""
        while True:
            conn: asyncpg.Connection[Any] | None = None
            try:
                conn = await asyncpg.connect(
                    dsn, server_settings={"application_name": "tripsage-trips-watch"}
                )
                lost = asyncio.Event()
                conn.add_termination_listener(lambda _conn, lost=lost: lost.set())
                await conn.add_listener(CHANNEL, self._heard)
                self._live.set()
                self._wake_all()  # catch up on whatever was committed while not listening
                while True:
                    # A closed connection is noticed at once; a silent one by the ping.
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(self.ping_seconds):
                            await lost.wait()
                    if lost.is_set() or conn.is_closed():
                        raise ConnectionResetError("the listening connection was closed")
                    await conn.fetchval("SELECT 1", timeout=self.ping_seconds)
            except asyncio.CancelledError:
                raise
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                logger.warning("trip change feed lost its connection, reconnecting: %s", exc)
            finally:
                self._live.clear()
                self._wake_all()
                if conn is not None:
                    conn.terminate()
            await asyncio.sleep(self.retry_seconds)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
