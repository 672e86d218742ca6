"""Travel search latency and throughput at the service (gRPC), cached and uncached.

Starts the travel service in this process on a free port, with the built-in
sandbox providers and a real Redis (REDIS_URL, else an embedded Valkey), then
for flights, stays and places runs N searches from C concurrent clients:

- uncached: every search a different question (a miss: validation, the sandbox
  provider, the Redis write);
- cached:   the same question again and again (a hit: validation, a Redis read).

It prints p50/p99 latency and throughput per case, and the cache counters.
BYOK look-ups are left out (no auth service runs here): every caller uses the
server's (here: no) key. Not a test; numbers depend on the machine.

    uv run python bench/travel_search.py [--requests 400] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
from prometheus_client import REGISTRY

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.travel.app import compose
from tripsage.travel.v1 import travel_service_pb2 as pb
from tripsage.travel.v1 import travel_service_pb2_grpc as pb_grpc
from tripsage_core.cache import create_redis
from tripsage_core.config import load_settings
from tripsage_core.embedded import EmbeddedValkey
from tripsage_core.grpc_kit.caller import caller_resolver
from tripsage_core.grpc_kit.server import GrpcService
from tripsage_core.identity import Role, access_tokens
from tripsage_core.provider_accounts import NoUserKeys

ROUTES = ["LIS", "OPO", "MAD", "BCN", "CDG", "LHR", "FRA", "AMS", "FCO", "JFK", "ORD", "NRT"]
CITIES = ["Lisbon", "Porto", "Madrid", "Paris", "London", "Berlin", "Rome", "Vienna", "Prague"]

Search = Callable[[pb_grpc.TravelServiceStub, int, tuple[tuple[str, str], ...]], Awaitable[object]]


def day(ahead: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=ahead)).isoformat()


def flights(number: int) -> pb.SearchFlightsRequest:
    origin = ROUTES[number % len(ROUTES)]
    destination = ROUTES[(number // len(ROUTES) + 1 + number) % len(ROUTES)]
    if destination == origin:
        destination = "SIN"
    return pb.SearchFlightsRequest(
        slices=[
            pb.FlightSlice(
                origin=origin, destination=destination, departure_date=day(7 + number % 300)
            )
        ]
    )


def stays(number: int) -> pb.SearchAccommodationsRequest:
    return pb.SearchAccommodationsRequest(
        destination=CITIES[number % len(CITIES)],
        check_in_date=day(10 + number % 300),
        check_out_date=day(12 + number % 300),
    )


def places(number: int) -> pb.SearchPlacesRequest:
    return pb.SearchPlacesRequest(
        query=f"museums in {CITIES[number % len(CITIES)]}", max_results=1 + number % 50
    )


CASES: dict[str, tuple[str, Callable[[int], object]]] = {
    "flights": ("SearchFlights", flights),
    "stays": ("SearchAccommodations", stays),
    "places": ("SearchPlaces", places),
}


async def run(
    stub: pb_grpc.TravelServiceStub,
    method: str,
    make: Callable[[int], object],
    metadata: tuple[tuple[str, str], ...],
    *,
    requests: int,
    concurrency: int,
    cached: bool,
    offset: int,
) -> tuple[list[float], float]:
    call = getattr(stub, method)
    if cached:
        await call(make(0), metadata=metadata)  # warm the one entry
    latencies: list[float] = []
    counter = iter(range(requests))

    async def worker() -> None:
        for number in counter:
            request = make(0 if cached else offset + number)
            started = time.perf_counter()
            await call(request, metadata=metadata)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, time.perf_counter() - started


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def counter(kind: str, result: str) -> int:
    value = REGISTRY.get_sample_value(
        "tripsage_travel_cache_lookups_total", {"kind": kind, "result": result}
    )
    return int(value or 0)


async def main(requests: int, concurrency: int) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="travel-bench-"))
    valkey = None
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        valkey = EmbeddedValkey(workdir, persist=False)
        redis_url = valkey.start()
    settings = load_settings(
        _env_file=None,
        environment="testing",
        redis_url=redis_url,
        tripsage_data_dir=workdir,
        travel_cache_prefix=f"bench-travel-{uuid.uuid4().hex[:8]}",
        duffel_access_token=None,
        google_maps_api_key=None,
        openweathermap_api_key=None,
    )
    redis = create_redis(redis_url)
    definition = compose(
        settings, redis, caller_resolver(settings, redis_client=redis), user_keys=NoUserKeys()
    )
    service = GrpcService(definition, grace_seconds=1)
    port = await service.start(0, host="127.0.0.1")
    token = access_tokens(settings).issue(
        user_id=str(uuid.uuid4()), email="bench@example.com", role=Role.USER, session_id="bench"
    )
    metadata = (("authorization", f"Bearer {token.token}"),)
    try:
        while not await definition.readiness():  # noqa: ASYNC110 - polling a probe
            await asyncio.sleep(0.1)
        print(f"travel service at 127.0.0.1:{port}; {requests} searches, {concurrency} clients")
        print(f"{'case':<18}{'p50 ms':>10}{'p99 ms':>10}{'req/s':>10}")
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = pb_grpc.TravelServiceStub(channel)
            for offset, (kind, (method, make)) in enumerate(CASES.items()):
                for cached in (False, True):
                    latencies, elapsed = await run(
                        stub, method, make, metadata,
                        requests=requests, concurrency=concurrency, cached=cached,
                        offset=offset * 100_000,
                    )  # fmt: skip
                    label = f"{kind} {'cached' if cached else 'uncached'}"
                    print(
                        f"{label:<18}{statistics.median(latencies) * 1000:>10.2f}"
                        f"{percentile(latencies, 0.99) * 1000:>10.2f}"
                        f"{len(latencies) / elapsed:>10.0f}"
                    )
        for kind in CASES:
            print(f"cache {kind}: hits={counter(kind, 'hit')} misses={counter(kind, 'miss')}")
    finally:
        await service.stop()
        if valkey is not None:
            valkey.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=16)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.requests, arguments.concurrency))
