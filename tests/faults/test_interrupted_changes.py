"""A multi-row change cut off in the middle leaves nothing half-done (issue 15): while a
trip with many items is being duplicated, every database connection is killed. The call
either completed (the copy has every item) or failed with UNAVAILABLE (and no copy exists),
whatever moment the kill lands on; the service goes on serving afterwards."""

from __future__ import annotations

import asyncio

import asyncpg
import grpc
import pytest

from tests.support.accounts import register
from tests.support.suite import RunningSuite
from tests.support.trips import add_item, create_trip
from tripsage.trips.v1 import trip_service_pb2 as pb
from tripsage.trips.v1 import trip_service_pb2_grpc as pb_grpc

pytestmark = [pytest.mark.database, pytest.mark.faults]

ITEMS = 150
ATTEMPTS = 8


async def _kill_connections(dsn: str, after: float) -> int:
    await asyncio.sleep(after)
    admin = await asyncpg.connect(dsn)
    try:
        return await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND backend_type = 'client backend'"
        )
    finally:
        await admin.close()


async def test_a_duplicate_cut_off_midway_leaves_all_or_nothing(
    suite: RunningSuite, database_dsn: str
) -> None:
    ana = await register(suite.address("auth"), "cut")
    md = ana.metadata
    async with grpc.aio.insecure_channel(suite.address("trips")) as channel:
        trips = pb_grpc.TripServiceStub(channel)
        source = await create_trip(trips, ana, title="Big")
        for n in range(ITEMS):
            await add_item(trips, ana, source.id, f"Stop {n}")
        # Time one whole duplicate, then land kills at spread moments inside that span.
        started = asyncio.get_running_loop().time()
        await trips.DuplicateTrip(
            pb.DuplicateTripRequest(trip_id=source.id, title="Timed", include_items=True),
            metadata=md,
        )
        span = asyncio.get_running_loop().time() - started
        outcomes = []
        for attempt in range(ATTEMPTS):
            title = f"Copy {attempt}"
            call = trips.DuplicateTrip(
                pb.DuplicateTripRequest(trip_id=source.id, title=title, include_items=True),
                metadata=md,
            )
            kill = asyncio.create_task(_kill_connections(database_dsn, span * attempt / ATTEMPTS))
            try:
                await call
                outcomes.append("completed")
            except grpc.aio.AioRpcError as error:
                outcomes.append(error.code().name)
            await kill

        # The service serves again (the pool reconnects), and every copy is whole.
        for _ in range(50):
            try:
                listed = await trips.ListTrips(pb.ListTripsRequest(page_size=100), metadata=md)
                break
            except grpc.aio.AioRpcError as error:
                if error.code() != grpc.StatusCode.UNAVAILABLE:
                    raise
                await asyncio.sleep(0.2)
        copies = {t.title: t.id for t in listed.trips if t.title.startswith("Copy ")}
        for attempt, outcome in enumerate(outcomes):
            title = f"Copy {attempt}"
            if outcome != "completed":
                assert outcome == "UNAVAILABLE", outcomes  # an outage, never INTERNAL
                assert title not in copies, f"{title} was refused yet exists"
                continue
            items = await trips.ListItineraryItems(
                pb.ListItineraryItemsRequest(trip_id=copies[title], page_size=500), metadata=md
            )
            assert len(items.items) == ITEMS, f"{title} has {len(items.items)} of {ITEMS} items"
    assert "UNAVAILABLE" in outcomes, f"no kill landed inside a duplicate: {outcomes}"
