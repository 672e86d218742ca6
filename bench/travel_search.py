"""Cached travel searches at the travel service (direct gRPC), against a bare grpc.aio ceiling.

Starts the suite as `tripsage up` runs it (bench.read_path.start_suite: the real
auth service answers travel's BYOK look-ups, a real Redis caches), registers a
traveller, asks each search once (so the answer is cached), starts the bare
grpc.aio ceiling of bench/ceilings.py answering bytes of the cached flight
answer's size, and then, interleaved for `--rounds` rounds, drives from its own
process (bench/load_grpc.py) the same cached question again and again:

- ceiling gRPC:  the bare handler;
- flights / stays / places: SearchFlights, SearchAccommodations, SearchPlaces;

each at c=1 and c=16. It prints the median over the rounds of rps, p50, p99 and
the travel service's CPU per search, the travel cache counters, and issue 10's
targets (flights: p50 <= 2 ms at c=1, >= 2,500 a second at c=16) against this
run's figures. Not a test; figures depend on the machine.

    uv run python bench/travel_search.py [--seconds 5] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import urllib.request
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import psutil
from google.protobuf.message import Message

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.read_path import (  # noqa: E402
    BARE,
    Figures,
    _wait_for_port,
    grpc_load,
    interleaved,
    start_suite,
)
from tripsage.auth.v1 import auth_service_pb2 as auth_pb  # noqa: E402
from tripsage.auth.v1 import auth_service_pb2_grpc as auth_grpc  # noqa: E402
from tripsage.travel.v1 import travel_service_pb2 as pb  # noqa: E402
from tripsage.travel.v1 import travel_service_pb2_grpc as pb_grpc  # noqa: E402
from tripsage_core.embedded import free_port  # noqa: E402

SERVICE = "/tripsage.travel.v1.TravelService/"


def day(ahead: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=ahead)).isoformat()


def questions() -> dict[str, tuple[str, Message]]:
    """The cached question of each case: its method and request."""
    flight = pb.FlightSlice(origin="LIS", destination="OPO", departure_date=day(21))
    return {
        "flights": ("SearchFlights", pb.SearchFlightsRequest(slices=[flight])),
        "stays": (
            "SearchAccommodations",
            pb.SearchAccommodationsRequest(
                destination="Porto", check_in_date=day(21), check_out_date=day(24)
            ),
        ),
        "places": ("SearchPlaces", pb.SearchPlacesRequest(query="museums in Porto")),
    }


async def prepare(address: str, auth_address: str) -> tuple[str, int]:
    """A traveller's token, every question asked once (now cached), and the size of the
    cached flight answer."""
    async with grpc.aio.insecure_channel(auth_address) as channel:
        registered = await auth_grpc.AuthServiceStub(channel).Register(
            auth_pb.RegisterRequest(
                email=f"search-{uuid.uuid4().hex[:8]}@example.com",
                password="correct horse battery staple",
                full_name="Search Bench",
            )
        )
    metadata = (("authorization", f"Bearer {registered.access_token}"),)
    size = 0
    async with grpc.aio.insecure_channel(address) as channel:
        stub = pb_grpc.TravelServiceStub(channel)
        for kind, (method, request) in questions().items():
            reply = await getattr(stub, method)(request, metadata=metadata)
            again = await getattr(stub, method)(request, metadata=metadata)
            assert again.source.cached, f"the {kind} search was not cached"
            if kind == "flights":
                size = reply.ByteSize()
    return registered.access_token, size


def cache_counters(metrics_port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as reply:
        text = reply.read().decode()
    lines = [
        line for line in text.splitlines() if line.startswith("tripsage_travel_cache_lookups_total")
    ]
    return "\n".join(f"  {line}" for line in lines if not line.endswith(" 0.0"))


def report(figures: dict[tuple[str, int], Figures], concurrency: list[int], args: Any) -> None:
    print()
    print(f"median of {args.rounds} interleaved rounds, {args.seconds:g} s each")
    print(f"{'case':<24} {'c':>3} {'rps':>8} {'p50 ms':>8} {'p99 ms':>8} {'err':>5} {'CPU ms':>8}")
    for (name, c), f in figures.items():
        server = "ceiling" if name.startswith("ceiling") else "travel"
        print(
            f"{name:<24} {c:>3} {f.rps:8.0f} {f.p50_ms:8.2f} {f.p99_ms:8.2f} {f.errors:>5}"
            f" {f.cpu_ms[server]:8.3f}"
        )
    low, high = min(concurrency), max(concurrency)
    flights_low, flights_high = figures[("flights cached", low)], figures[("flights cached", high)]
    ceiling_high = figures[("ceiling gRPC (bare)", high)]
    checks = [
        (f"cached flight search p50 at c={low} <= 2 ms", flights_low.p50_ms, 2.0, "le"),
        (f"cached flight searches a second at c={high} >= 2500", flights_high.rps, 2500, "ge"),
    ]
    print()
    print(f"flights at c={high}: {flights_high.rps / ceiling_high.rps * 100:.0f} % of the ceiling")
    print("targets (issue 10), from this run:")
    for label, value, bound, sense in checks:
        held = value <= bound if sense == "le" else value >= bound
        print(f"  {'PASS' if held else 'FAIL'}  {label:<48} {value:8.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--only", nargs="+", help="search kinds to run (flights stays places)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="tripsage-travel-search-"))
    log = open(work / "suite.log", "wb")  # noqa: SIM115 - open for the whole run
    metrics_port = free_port()
    print(f"starting the suite (logs in {log.name}) ...", flush=True)
    suite, addresses, _gateway = start_suite(
        work / "data", log, TRAVEL_METRICS_PORT=str(metrics_port)
    )
    ceiling: subprocess.Popen[bytes] | None = None
    try:
        token, size = asyncio.run(prepare(addresses["travel"], addresses["auth"]))
        (work / "answer.bin").write_bytes(b"\0" * size)
        bare = free_port()
        script = str(REPO / "bench" / "ceilings.py")
        ceiling = subprocess.Popen(
            [sys.executable, script, "grpc", str(bare), str(work / "answer.bin")],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        _wait_for_port(bare)
        watched = {
            "travel": psutil.Process(suite.processes["travel"].pid),
            "ceiling": psutil.Process(ceiling.pid),
        }
        cases: dict[str, Callable[[int], Any]] = {
            "ceiling gRPC (bare)": lambda c: grpc_load(
                f"127.0.0.1:{bare}", BARE, b"", None, c, args.seconds
            ),
        }
        for kind, (method, request) in questions().items():
            if args.only and kind not in args.only:
                continue
            cases[f"{kind} cached"] = lambda c, m=method, r=request: grpc_load(
                addresses["travel"], SERVICE + m, r.SerializeToString(), token, c, args.seconds
            )
        report(interleaved(cases, args.concurrency, args.rounds, watched), args.concurrency, args)
        print("\ntravel cache counters (non-zero):")
        print(cache_counters(metrics_port))
    finally:
        if ceiling is not None:
            ceiling.terminate()
            ceiling.wait()
        suite.stop()
        log.close()


if __name__ == "__main__":
    main()
