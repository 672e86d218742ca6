"""gRPC health follows PostgreSQL: NOT_SERVING while it is down, SERVING when it returns.

The test owns its PostgreSQL (not the session's, which other tests share), stops it
under running services and starts it again on the same data directory and socket.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.support.accounts import register
from tests.support.suite import RunningSuite, make_settings, wait_serving
from tripsage.trips.v1 import trip_service_pb2 as pb
from tripsage.trips.v1 import trip_service_pb2_grpc as trips_grpc
from tripsage_core.database import with_database
from tripsage_core.embedded import EmbeddedPostgres

pytestmark = pytest.mark.database

NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
OVERALL_LIMIT_SECONDS = 60.0


@pytest.fixture
def own_postgres_dir() -> Iterator[Path]:
    # Outside pytest's private basetemp: the embedded server may run as another user.
    path = Path(tempfile.mkdtemp(prefix="tripsage-pgdown-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


async def _wait_not_serving(address: str) -> None:
    deadline = asyncio.get_running_loop().time() + OVERALL_LIMIT_SECONDS
    async with grpc.aio.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while True:
            reply = await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=2)
            if reply.status == NOT_SERVING:
                return
            if asyncio.get_running_loop().time() > deadline:
                pytest.fail(f"{address} still reports {reply.status} with its database down")
            await asyncio.sleep(0.25)


async def test_trips_health_follows_its_database(
    own_postgres_dir: Path, redis_url: str, tmp_path: Path
) -> None:
    postgres = EmbeddedPostgres(own_postgres_dir)
    admin_dsn = await asyncio.to_thread(postgres.start)
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute('CREATE DATABASE "tripsage_pgdown"')
    finally:
        await admin.close()
    settings = make_settings(with_database(admin_dsn, "tripsage_pgdown"), redis_url, tmp_path)
    running = RunningSuite(settings)
    try:
        await running.start_service("auth")
        await running.start_service("trips")
        address = running.address("trips")
        account = await register(running.address("auth"))

        await asyncio.to_thread(postgres.stop)
        await _wait_not_serving(address)

        # Same data directory, so the same socket and DSN: the service must reconnect.
        assert await asyncio.to_thread(postgres.start) == admin_dsn
        await wait_serving(address, timeout=OVERALL_LIMIT_SECONDS)
        async with grpc.aio.insecure_channel(address) as channel:
            trips = trips_grpc.TripServiceStub(channel)
            created = await trips.CreateTrip(
                pb.CreateTripRequest(trip=pb.Trip(title="Back online")), metadata=account.metadata
            )
            listed = await trips.ListTrips(pb.ListTripsRequest(), metadata=account.metadata)
        assert [trip.id for trip in listed.trips] == [created.trip.id]
    finally:
        await running.stop()
        await asyncio.to_thread(postgres.stop)
