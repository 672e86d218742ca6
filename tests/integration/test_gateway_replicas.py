"""Calls spread over every replica of a service, and a replica that goes away stops
getting calls at once, with no failed request.

Two real trips services (the same database) behind one TRIPS_SERVICE_ADDR value,
a list of their two addresses (tripsage_core/grpc_kit/targets.py), and the real
gateway in front. Each replica counts the TripService calls it serves with a
server interceptor the test adds (ServiceDefinition.extra_interceptors), and
records the x-request-id metadata each call carried.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
import httpx
import pytest
import pytest_asyncio

from gateway.app import create_app
from gateway.callers import gateway_callers
from gateway.discovery import upstream_addresses
from services.trips.app import build as build_trips
from tests.integration.gateway_support.servers import http_server, unreachable_address
from tests.support.accounts import Account, register
from tests.support.suite import RunningSuite, wait_serving
from tripsage_core.grpc_kit.server import GrpcService
from tripsage_core.request_context import REQUEST_ID_HEADER

pytestmark = pytest.mark.database

TRIPS = "tripsage.trips.v1.TripService"


@dataclass
class Served(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """The TripService calls one replica served: (method, x-request-id)."""

    calls: list[tuple[str, str]] = field(default_factory=list)

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Any]],
        details: grpc.HandlerCallDetails,
    ) -> Any:
        if details.method.startswith(f"/{TRIPS}/"):
            metadata = dict(details.invocation_metadata or ())
            self.calls.append((details.method, str(metadata.get(REQUEST_ID_HEADER, ""))))
        return await continuation(details)


@dataclass
class Replica:
    service: GrpcService
    served: Served
    address: str


@dataclass
class Replicas:
    url: str
    first: Replica
    second: Replica


async def _replica(suite: RunningSuite) -> Replica:
    served = Served()
    definition = dataclasses.replace(
        await build_trips(suite.settings), extra_interceptors=(served,)
    )
    service = GrpcService(definition, grace_seconds=1, reflection=False)
    port = await service.start(0, host="127.0.0.1")
    address = f"127.0.0.1:{port}"
    await wait_serving(address)
    return Replica(service, served, address)


@pytest_asyncio.fixture(loop_scope="session")
async def replicas(suite: RunningSuite) -> AsyncIterator[Replicas]:
    first, second = await _replica(suite), await _replica(suite)
    upstreams = {
        **upstream_addresses(suite.settings),
        TRIPS: f"{first.address},{second.address}",
    }
    app = create_app(upstreams, call_timeout=10, callers=gateway_callers(suite.settings))
    try:
        async with http_server(app) as url:
            yield Replicas(url, first, second)
    finally:
        await first.service.stop()
        await second.service.stop()


@pytest.fixture
async def ana(suite: RunningSuite) -> Account:
    return await register(suite.address("auth"), "ana")


async def _trip(http: httpx.AsyncClient, ana: Account) -> str:
    created = await http.post(
        "/api/v1/trips",
        headers=ana.headers,
        json={"title": "Porto", "startDate": "2027-06-01", "endDate": "2027-06-04"},
    )
    assert created.status_code == 201, created.text
    return str(created.json()["trip"]["id"])


async def test_both_replicas_serve_and_each_call_carries_its_request_id(
    replicas: Replicas, ana: Account
) -> None:
    async with httpx.AsyncClient(base_url=replicas.url, timeout=10) as http:
        trip_id = await _trip(http, ana)
        before = len(replicas.first.served.calls), len(replicas.second.served.calls)
        ids = []
        for index in range(20):
            got = await http.get(
                f"/api/v1/trips/{trip_id}",
                headers={**ana.headers, "x-request-id": f"replica-test-{index}"},
            )
            assert got.status_code == 200, got.text
            assert got.headers["x-request-id"] == f"replica-test-{index}"
            ids.append(got.headers["x-request-id"])
    first = replicas.first.served.calls[before[0] :]
    second = replicas.second.served.calls[before[1] :]
    # round robin: every other call to each replica
    assert len(first) >= 8, (first, second)
    assert len(second) >= 8, (first, second)
    assert sorted(request_id for _, request_id in first + second) == sorted(ids)
    assert {method for method, _ in first + second} == {f"/{TRIPS}/GetTrip"}


@pytest.mark.parametrize("how", ["killed", "drained"])
async def test_a_replica_that_goes_away_gets_no_more_calls_and_none_fail(
    replicas: Replicas, ana: Account, how: str
) -> None:
    async with httpx.AsyncClient(base_url=replicas.url, timeout=10) as http:
        trip_id = await _trip(http, ana)
        for _ in range(4):  # both connections in use
            assert (await http.get(f"/api/v1/trips/{trip_id}", headers=ana.headers)).is_success
        assert replicas.first.served.calls
        assert replicas.second.served.calls
        if how == "killed":
            await replicas.first.service.server.stop(grace=None)  # connections dropped at once
        else:
            await replicas.first.service.stop()  # SIGTERM's path: NOT_SERVING, drain, stop
        gone = len(replicas.first.served.calls)
        survivor = len(replicas.second.served.calls)
        statuses = []
        started = time.perf_counter()
        while time.perf_counter() - started < 1.5:
            got = await http.get(f"/api/v1/trips/{trip_id}", headers=ana.headers)
            statuses.append(got.status_code)
            await asyncio.sleep(0.02)
    assert len(statuses) > 10
    assert set(statuses) == {200}, statuses
    assert len(replicas.first.served.calls) == gone
    assert len(replicas.second.served.calls) - survivor == len(statuses)


async def test_a_replica_that_is_down_from_the_start_gets_no_calls(
    suite: RunningSuite, ana: Account
) -> None:
    live = await _replica(suite)
    upstreams = {
        **upstream_addresses(suite.settings),
        TRIPS: f"{unreachable_address()},{live.address}",
    }
    app = create_app(upstreams, call_timeout=10, callers=gateway_callers(suite.settings))
    try:
        async with http_server(app) as url, httpx.AsyncClient(base_url=url, timeout=10) as http:
            trip_id = await _trip(http, ana)
            for _ in range(10):
                got = await http.get(f"/api/v1/trips/{trip_id}", headers=ana.headers)
                assert got.status_code == 200, got.text
    finally:
        await live.service.stop()
    assert len(live.served.calls) == 11
