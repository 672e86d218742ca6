"""PostgreSQL stopped under a running suite (issues 13 and 15): trips' gRPC health turns
NOT_SERVING, REST calls fail fast with 503 and write nothing, and once it is started again
health returns to SERVING and calls succeed, without restarting anything.

The test owns its PostgreSQL (not the session's, which other tests share), stops it
under running services and starts it again on the same data directory and socket.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.support.accounts import register
from tests.support.suite import RunningSuite, make_settings, wait_serving
from tripsage.trips.v1 import trip_service_pb2 as pb
from tripsage.trips.v1 import trip_service_pb2_grpc as trips_grpc
from tripsage_core.database import with_database
from tripsage_core.embedded import EmbeddedPostgres

pytestmark = [pytest.mark.database, pytest.mark.faults]

NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
OVERALL_LIMIT_SECONDS = 60.0
# Failing fast: a refused database connection answers at once; the bound only keeps a
# loaded CI machine from failing the test (a hang would be the pool's 30 s timeout).
FAIL_FAST_SECONDS = 5.0
# Health follows within the five seconds: the readiness check runs every 2 s.
NOT_SERVING_WITHIN_SECONDS = 5.0


async def _wait_not_serving(address: str, within: float) -> None:
    deadline = asyncio.get_running_loop().time() + within
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
    readable_tmp_dir: Path, redis_url: str, tmp_path: Path
) -> None:
    postgres = EmbeddedPostgres(readable_tmp_dir)
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
        gateway = await running.start_gateway()
        address = running.address("trips")
        account = await register(running.address("auth"))
        async with httpx.AsyncClient(base_url=gateway, headers=account.headers) as http:
            before = await http.post("/api/v1/trips", json={"title": "Before"})
            assert before.status_code == 201, before.text

            await asyncio.to_thread(postgres.stop)
            watching = asyncio.create_task(_wait_not_serving(address, NOT_SERVING_WITHIN_SECONDS))
            for method, path, body in (
                ("POST", "/api/v1/trips", {"title": "During"}),
                ("GET", f"/api/v1/trips/{before.json()['trip']['id']}", None),
                ("GET", "/api/v1/trips", None),
            ):
                started = asyncio.get_running_loop().time()
                down = await http.request(method, path, json=body, timeout=FAIL_FAST_SECONDS)
                assert down.status_code == 503, (path, down.text)
                assert down.json()["error"]["status"] == "UNAVAILABLE"
                took = asyncio.get_running_loop().time() - started
                assert took < FAIL_FAST_SECONDS, f"{method} {path} took {took:.2f} s"
            await watching

        # Same data directory, so the same socket and DSN: the service must reconnect.
        assert await asyncio.to_thread(postgres.start) == admin_dsn
        await wait_serving(address, timeout=OVERALL_LIMIT_SECONDS)
        async with grpc.aio.insecure_channel(address) as channel:
            trips = trips_grpc.TripServiceStub(channel)
            created = await trips.CreateTrip(
                pb.CreateTripRequest(trip=pb.Trip(title="Back online")), metadata=account.metadata
            )
            listed = await trips.ListTrips(pb.ListTripsRequest(), metadata=account.metadata)
        # Nothing of the refused create was written; what came before is still there.
        assert sorted(trip.title for trip in listed.trips) == ["Back online", "Before"]
        assert created.trip.id in {trip.id for trip in listed.trips}
    finally:
        await running.stop()
        await asyncio.to_thread(postgres.stop)
