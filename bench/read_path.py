"""The read path, end to end: the whole suite as `tripsage up` runs it, measured in one run.

Starts the suite with the launcher (embedded PostgreSQL and Valkey unless
POSTGRES_URL / REDIS_URL are set), registers a traveller who owns 20 trips,
one of them realistic (destinations, budget, tags, preferences, a dozen items,
pending invitations), starts two ceilings beside it, and then, interleaved,
for `--rounds` rounds:

- ceiling gRPC:  a bare grpc.aio unary handler answering GetTrip-sized bytes;
- ceiling ASGI:  a bare ASGI handler answering the same JSON, on the gateway's uvicorn;
- gRPC GetTrip / ListTrips: straight to the trips service;
- REST GetTrip / ListTrips: through the gateway (its rate limiter on);

- gRPC GetTrip, tracing: the same call to three more trips processes beside
  the suite's (same database and Redis): one with no OTLP endpoint, one with an
  endpoint but OTEL_TRACES_EXPORTER=none, one exporting every span to a local
  OTLP/HTTP sink the bench runs (no collector needed), so tracing off and on
  are side by side;
- with `--compare DIR`, GetTrip and ListTrips served by two more trips
  processes beside the suite, one run from this checkout and one from another
  (`git archive main | tar -x -C DIR`), for before/after figures from one run;

each at c=1 and c=32 (`--concurrency`). gRPC load comes from bench/load_grpc.py
and HTTP load from wrk, each in its own process. It prints the median over
the rounds of rps, p50, p99 and the CPU each process spent per request, the
resident memory of every process after the run, and the issue's targets
against the figures of this run. Not a test; figures depend on the machine.

    apt-get install wrk      # once
    uv run python bench/read_path.py [--seconds 5] [--rounds 3] [--compare DIR]
        [--only "gRPC GetTrip" ...] [--no-tracing]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import grpc
import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from google.protobuf import struct_pb2  # noqa: E402
from google.type import latlng_pb2, money_pb2  # noqa: E402

from tripsage.auth.v1 import auth_service_pb2 as auth_pb  # noqa: E402
from tripsage.auth.v1 import auth_service_pb2_grpc as auth_grpc  # noqa: E402
from tripsage.launcher import Suite  # noqa: E402
from tripsage.trips.v1 import trip_service_pb2 as pb  # noqa: E402
from tripsage.trips.v1 import trip_service_pb2_grpc as pb_grpc  # noqa: E402
from tripsage_core.config import load_settings  # noqa: E402
from tripsage_core.embedded import free_port  # noqa: E402
from tripsage_core.service_registry import SERVICE_NAMES  # noqa: E402

GET_TRIP = "/tripsage.trips.v1.TripService/GetTrip"
LIST_TRIPS = "/tripsage.trips.v1.TripService/ListTrips"
BARE = "/bench.Bare/Get"


# -- the suite and its data ------------------------------------------------------------


def start_suite(data_dir: Path, log: Any, **env: str) -> tuple[Suite, dict[str, str], int]:
    """The suite as `tripsage up` runs it, on free ports, with `env` on top; its service
    addresses and the gateway's port."""
    ports = {name: free_port() for name in SERVICE_NAMES}
    gateway_port = free_port()
    os.environ.update(
        TRIPSAGE_DATA_DIR=str(data_dir),
        PORT=str(gateway_port),
        RATE_LIMIT_PER_MINUTE="100000000",  # on, as in production, but never refusing here
        **{
            f"RATE_LIMIT_{kind}_PER_MINUTE": "100000000"
            for kind in ("ANONYMOUS", "API_KEY", "ADMIN", "SIGN_IN", "CHAT", "SEARCH")
        },
        ACCESS_TOKEN_TTL_SECONDS="3600",
        **{f"{name.upper()}_SERVICE_ADDR": f"127.0.0.1:{port}" for name, port in ports.items()},
        **env,
    )
    suite = Suite(load_settings(), output=log)
    suite.start()
    if not suite.wait_until_healthy(gateway_port, timeout=120):
        suite.stop()
        raise SystemExit(f"the suite did not become healthy; see {log.name}")
    addresses = {name: f"127.0.0.1:{port}" for name, port in ports.items()}
    return suite, addresses, gateway_port


def start_trips_beside(
    suite: Suite, name: str, log: Any, source: Path = REPO, **env: str
) -> tuple[subprocess.Popen[bytes], str]:
    """One more trips process on the suite's own database and Redis (the environment the
    launcher gave its trips), run from `source`'s code, with `env` on top."""
    base = psutil.Process(suite.processes["trips"].pid).environ()
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "services.trips"],
        env={**base, "PORT": str(port), "OTEL_SERVICE_NAME": f"bench-{name}", **env},
        cwd=source,  # its own packages first on sys.path
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return process, f"127.0.0.1:{port}"


class OtlpSink:
    """A local OTLP/HTTP receiver: answers every export 200 (an empty
    ExportTraceServiceResponse) and counts what arrived, so tracing exports for real."""

    def __init__(self) -> None:
        sink = self
        self.requests = 0
        self.bytes = 0

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                sink.requests += 1
                sink.bytes += len(body)
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1/traces"

    def close(self) -> None:
        self.server.shutdown()


async def _wait_serving(address: str, within: float = 60.0) -> None:
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    deadline = time.monotonic() + within
    async with grpc.aio.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            with contextlib.suppress(grpc.aio.AioRpcError):
                reply = await stub.Check(health_pb2.HealthCheckRequest(), timeout=2)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            await asyncio.sleep(0.3)
    raise SystemExit(f"a trips process beside the suite did not become healthy at {address}")


def realistic_trip(index: int) -> pb.Trip:
    preferences = struct_pb2.Struct()
    preferences.update({"pace": "relaxed", "diet": ["vegetarian"], "budget_style": "mid-range"})
    return pb.Trip(
        title=f"Portugal and Spain, spring {index}",
        description="Two weeks down the Atlantic coast and across to Seville, by train.",
        start_date="2027-04-10",
        end_date="2027-04-24",
        destinations=[
            pb.Destination(
                name=name,
                country_code=country,
                location=latlng_pb2.LatLng(latitude=lat, longitude=lng),
                arrival_date=arrive,
                departure_date=leave,
            )
            for name, country, lat, lng, arrive, leave in (
                ("Porto", "PT", 41.1579, -8.6291, "2027-04-10", "2027-04-14"),
                ("Lisbon", "PT", 38.7223, -9.1393, "2027-04-14", "2027-04-19"),
                ("Seville", "ES", 37.3891, -5.9845, "2027-04-19", "2027-04-24"),
            )
        ],
        budget=money_pb2.Money(currency_code="EUR", units=4200),
        travelers=pb.Travelers(adults=2, children=1),
        status=pb.TRIP_STATUS_PLANNING,
        tags=["family", "trains", "food"],
        preferences=preferences,
    )


async def seed(addresses: dict[str, str]) -> tuple[str, str]:
    """A traveller with 20 trips; returns their access token and the realistic trip's id."""
    async with grpc.aio.insecure_channel(addresses["auth"]) as channel:
        reply = await auth_grpc.AuthServiceStub(channel).Register(
            auth_pb.RegisterRequest(
                email=f"bench-{os.getpid()}@example.com",
                password="correct horse battery staple",
                full_name="Bench Traveller",
            )
        )
    token = reply.access_token
    metadata = (("authorization", f"Bearer {token}"),)
    async with grpc.aio.insecure_channel(addresses["trips"]) as channel:
        trips = pb_grpc.TripServiceStub(channel)
        trip_id = ""
        for index in range(20):
            created = await trips.CreateTrip(
                pb.CreateTripRequest(trip=realistic_trip(index)), metadata=metadata
            )
            trip_id = trip_id or created.trip.id
        for day in range(12):
            await trips.CreateItineraryItem(
                pb.CreateItineraryItemRequest(
                    trip_id=trip_id,
                    item=pb.ItineraryItem(
                        kind=pb.ITINERARY_ITEM_KIND_ACTIVITY,
                        title=f"Day {day + 1}: walking tour",
                        day=f"2027-04-{10 + day:02d}",
                        time_zone="Europe/Lisbon",
                        cost=money_pb2.Money(currency_code="EUR", units=35),
                    ),
                ),
                metadata=metadata,
            )
        for friend in ("ana", "ben"):
            await trips.AddCollaborator(
                pb.AddCollaboratorRequest(
                    trip_id=trip_id,
                    email=f"{friend}-{os.getpid()}@example.com",
                    role=pb.COLLABORATOR_ROLE_EDIT,
                ),
                metadata=metadata,
            )
    return token, trip_id


# -- measuring -------------------------------------------------------------------------


@dataclass
class Figures:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int
    cpu_ms: dict[str, float] = field(default_factory=dict)  # per request, by process


def grpc_load(address: str, method: str, request: bytes, token: str | None, c: int, s: float):
    command = [
        sys.executable,
        str(REPO / "bench" / "load_grpc.py"),
        address,
        method,
        request.hex(),
        f"--concurrency={c}",
        f"--seconds={s}",
    ]
    if token:
        command.append(f"--metadata=authorization=Bearer {token}")

    def run() -> tuple[int, float, float, float, int]:
        out = json.loads(subprocess.run(command, capture_output=True, check=True).stdout)
        return out["requests"], out["rps"], out["p50_ms"], out["p99_ms"], out["errors"]

    return run


_WRK_LATENCY = re.compile(r"^\s+(50|99)(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk_load(url: str, token: str | None, c: int, s: float):
    def command(seconds: float) -> list[str]:
        headers = ["-H", f"authorization: Bearer {token}"] if token else []
        return ["wrk", "-t1", f"-c{c}", f"-d{max(1, round(seconds))}s", "--latency", *headers, url]

    def run() -> tuple[int, float, float, float, int]:
        subprocess.run(command(1), capture_output=True, check=True)  # warm-up
        text = subprocess.run(command(s), capture_output=True, check=True, text=True).stdout
        requests = int(re.search(r"(\d+) requests in", text).group(1))  # type: ignore[union-attr]
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))  # type: ignore[union-attr]
        latency = {p: float(v) * _UNITS[u] for p, v, u in _WRK_LATENCY.findall(text)}
        bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
        failed = re.search(r"Socket errors:.*", text)
        errors = int(bad.group(1)) if bad else 0
        if failed:
            errors += sum(int(n) for n in re.findall(r"\d+", failed.group(0)))
        return (
            requests,
            rps,
            latency.get("50", float("nan")),
            latency.get("99", float("nan")),
            errors,
        )

    return run


def process_tree_cpu(process: psutil.Process) -> float:
    total = 0.0
    for each in (process, *process.children(recursive=True)):
        try:
            times = each.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def process_tree_rss(process: psutil.Process) -> float:
    total = 0
    for each in (process, *process.children(recursive=True)):
        with contextlib.suppress(psutil.NoSuchProcess):
            total += each.memory_info().rss
    return total / 2**20


def measure(
    run: Callable[[], tuple[int, float, float, float, int]], watched: dict[str, psutil.Process]
) -> Figures:
    before = {name: process_tree_cpu(p) for name, p in watched.items()}
    requests, rps, p50, p99, errors = run()
    after = {name: process_tree_cpu(p) for name, p in watched.items()}
    # The load generators warm up before they count; the CPU of those calls lands
    # here too, so CPU per request is a slight over-estimate (by the warm-up share).
    cpu = {name: (after[name] - before[name]) * 1000 / max(requests, 1) for name in watched}
    return Figures(rps, p50, p99, errors, requests, cpu)


def median(figures: list[Figures]) -> Figures:
    names = figures[0].cpu_ms.keys()
    return Figures(
        rps=statistics.median(f.rps for f in figures),
        p50_ms=statistics.median(f.p50_ms for f in figures),
        p99_ms=statistics.median(f.p99_ms for f in figures),
        errors=sum(f.errors for f in figures),
        requests=sum(f.requests for f in figures),
        cpu_ms={n: statistics.median(f.cpu_ms[n] for f in figures) for n in names},
    )


def interleaved(
    cases: dict[str, Callable[[int], Any]],
    concurrency: list[int],
    rounds: int,
    watched: dict[str, psutil.Process],
) -> dict[tuple[str, int], Figures]:
    """Every case at every concurrency, round after round; the median of each."""
    results: dict[tuple[str, int], list[Figures]] = {}
    for round_number in range(rounds):
        print(f"round {round_number + 1} of {rounds} ...", flush=True)
        for c in concurrency:
            for name, make in cases.items():
                results.setdefault((name, c), []).append(measure(make(c), watched))
    return {key: median(values) for key, values in results.items()}


def backing_processes(suite: Suite, data_dir: Path) -> dict[str, psutil.Process]:
    """The embedded servers' processes (PostgreSQL with its backends), when embedded."""
    found: dict[str, psutil.Process] = {}
    for process in psutil.process_iter(["cmdline", "name"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        postgres = "postgres" in (process.info["name"] or "") and "-D" in cmdline
        if postgres and str(data_dir) in cmdline:
            found["postgres"] = process
    valkey = getattr(suite.embedded_valkey, "_server", None)
    if valkey is not None and getattr(valkey, "_process", None) is not None:
        found["valkey"] = psutil.Process(valkey._process.pid)
    return found


# -- the run ---------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 32])
    parser.add_argument(
        "--compare", type=Path, help="another checkout whose trips service runs beside this one"
    )
    parser.add_argument(
        "--only", nargs="+", default=[], help="measure only the cases whose names start so"
    )
    parser.add_argument(
        "--no-tracing", action="store_true", help="skip the tracing off/on trips processes"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed for the HTTP load: apt-get install wrk")

    work = Path(tempfile.mkdtemp(prefix="tripsage-read-path-"))
    log = open(work / "suite.log", "wb")  # noqa: SIM115 - open for the whole run
    print(f"starting the suite (logs in {log.name}) ...", flush=True)
    suite, addresses, gateway_port = start_suite(work / "data", log)
    ceilings: list[subprocess.Popen[bytes]] = []
    beside: dict[str, tuple[subprocess.Popen[bytes], str]] = {}
    sink = OtlpSink()
    try:
        if not args.no_tracing:
            beside["trips-trace-off"] = start_trips_beside(suite, "trace-off", log)
            beside["trips-trace-none"] = start_trips_beside(
                suite,
                "trace-none",
                log,
                OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=sink.endpoint,
                OTEL_TRACES_EXPORTER="none",
            )
            beside["trips-trace-on"] = start_trips_beside(
                suite, "trace-on", log, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=sink.endpoint
            )
        if args.compare is not None:
            # Both sides beside the suite, alike: the suite's own trips process also
            # answers the gateway and the other services, and measured slower by itself.
            beside["trips-this"] = start_trips_beside(suite, "this", log)
            beside["trips-compared"] = start_trips_beside(
                suite, "compared", log, args.compare.resolve()
            )
        for _, address in beside.values():
            asyncio.run(_wait_serving(address))
        token, trip_id = asyncio.run(seed(addresses))
        get_trip = pb.GetTripRequest(trip_id=trip_id).SerializeToString()
        list_trips = pb.ListTripsRequest().SerializeToString()

        # The ceilings answer what the real path answers, byte for byte in size.
        sample = asyncio.run(_get_trip_bytes(addresses["trips"], trip_id, token))
        gateway = f"http://127.0.0.1:{gateway_port}"
        body = _http_get(f"{gateway}/api/v1/trips/{trip_id}", token)
        (work / "answer.bin").write_bytes(sample)
        (work / "answer.json").write_bytes(body)
        bare_grpc, bare_asgi = free_port(), free_port()
        for kind, port, path in (
            ("grpc", bare_grpc, "answer.bin"),
            ("asgi", bare_asgi, "answer.json"),
        ):
            ceilings.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        str(REPO / "bench" / "ceilings.py"),
                        kind,
                        str(port),
                        str(work / path),
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        _wait_for_port(bare_grpc)
        _wait_for_port(bare_asgi)

        watched = {name: psutil.Process(p.pid) for name, p in suite.processes.items()}
        watched |= backing_processes(suite, work / "data")
        watched["ceiling"] = psutil.Process(ceilings[0].pid)
        watched["ceiling-asgi"] = psutil.Process(ceilings[1].pid)
        watched |= {name: psutil.Process(p.pid) for name, (p, _) in beside.items()}

        cases: dict[str, Callable[[int], Any]] = {
            "ceiling gRPC (bare grpc.aio)": lambda c: grpc_load(
                f"127.0.0.1:{bare_grpc}", BARE, b"", None, c, args.seconds
            ),
            "ceiling ASGI (bare, uvicorn)": lambda c: wrk_load(
                f"http://127.0.0.1:{bare_asgi}/", None, c, args.seconds
            ),
            "gRPC GetTrip": lambda c: grpc_load(
                addresses["trips"], GET_TRIP, get_trip, token, c, args.seconds
            ),
            "REST GetTrip": lambda c: wrk_load(
                f"{gateway}/api/v1/trips/{trip_id}", token, c, args.seconds
            ),
            "gRPC ListTrips": lambda c: grpc_load(
                addresses["trips"], LIST_TRIPS, list_trips, token, c, args.seconds
            ),
            "REST ListTrips": lambda c: wrk_load(f"{gateway}/api/v1/trips", token, c, args.seconds),
        }
        for name, label in (
            ("trips-trace-off", "off"),
            ("trips-trace-none", "none"),
            ("trips-trace-on", "on"),
        ):
            if name in beside:
                cases[f"gRPC GetTrip, tracing {label}"] = _bind_grpc(
                    beside[name][1], GET_TRIP, get_trip, token, args.seconds
                )
        for name, label in (("trips-this", "this"), ("trips-compared", "compared")):
            if name in beside:
                address = beside[name][1]
                cases[f"gRPC GetTrip, {label}"] = _bind_grpc(
                    address, GET_TRIP, get_trip, token, args.seconds
                )
                cases[f"gRPC ListTrips, {label}"] = _bind_grpc(
                    address, LIST_TRIPS, list_trips, token, args.seconds
                )
        if args.only:
            cases = {k: v for k, v in cases.items() if k.startswith(tuple(args.only))}
        figures = interleaved(cases, args.concurrency, args.rounds, watched)
        rss = {name: process_tree_rss(p) for name, p in watched.items()}
        report(figures, rss, args)
        if "trips-trace-on" in beside:
            print(
                f"the OTLP sink received {sink.requests} exports ({sink.bytes / 1024:.0f} KiB) "
                "from the tracing-on trips process"
            )
    finally:
        for process, _ in beside.values():
            process.terminate()
            process.wait()
        sink.close()
        for ceiling in ceilings:
            ceiling.terminate()
            ceiling.wait()
        suite.stop()
        log.close()


def _bind_grpc(
    address: str, method: str, request: bytes, token: str, seconds: float
) -> Callable[[int], Any]:
    return lambda c: grpc_load(address, method, request, token, c, seconds)


async def _get_trip_bytes(address: str, trip_id: str, token: str) -> bytes:
    async with grpc.aio.insecure_channel(address) as channel:
        call = channel.unary_unary(GET_TRIP)
        answer: bytes = await call(
            pb.GetTripRequest(trip_id=trip_id).SerializeToString(),
            metadata=(("authorization", f"Bearer {token}"),),
        )
        return answer


def _http_get(url: str, token: str) -> bytes:
    import httpx

    reply = httpx.get(url, headers={"authorization": f"Bearer {token}"})
    reply.raise_for_status()
    return reply.content


def _wait_for_port(port: int, timeout: float = 20.0) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"a ceiling did not start on port {port}")


# -- the report ------------------------------------------------------------------------

# Whose CPU counts for each kind of case: the process that serves it.
SERVES = {
    "ceiling gRPC": "ceiling",
    "ceiling ASGI": "ceiling-asgi",
    "gRPC GetTrip, tracing off": "trips-trace-off",
    "gRPC GetTrip, tracing none": "trips-trace-none",
    "gRPC GetTrip, tracing on": "trips-trace-on",
    "gRPC GetTrip, this": "trips-this",
    "gRPC ListTrips, this": "trips-this",
    "gRPC GetTrip, compared": "trips-compared",
    "gRPC ListTrips, compared": "trips-compared",
    "gRPC": "trips",
    "REST": "gateway",
}


def report(figures: dict[tuple[str, int], Figures], rss: dict[str, float], args: Any) -> None:
    shown = ["gateway", "trips", "auth", "postgres", "valkey"]
    print()
    print(f"median of {args.rounds} interleaved rounds, {args.seconds:g} s each")
    header = (
        f"{'case':<30} {'c':>3} {'rps':>8} {'p50 ms':>8} {'p99 ms':>8} {'err':>5}  CPU ms/req: "
    )
    print(header + "  ".join(f"{n:>8}" for n in ["serving", *shown]))
    for (name, c), f in figures.items():
        server = next(v for k, v in SERVES.items() if name.startswith(k))
        cpu = "  ".join(f"{f.cpu_ms.get(n, float('nan')):8.3f}" for n in [server, *shown])
        print(
            f"{name:<30} {c:>3} {f.rps:8.0f} {f.p50_ms:8.2f} {f.p99_ms:8.2f} {f.errors:>5}"
            f"  {'':11} {cpu}"
        )
    print()
    print(
        "resident memory after the run (MB): " + ", ".join(f"{n} {v:.0f}" for n, v in rss.items())
    )
    print()
    high = max(args.concurrency)
    low = min(args.concurrency)

    def cpu(name: str, c: int, process: str) -> float:
        return figures[(name, c)].cpu_ms[process]

    def rps(name: str, c: int) -> float:
        return figures[(name, c)].rps

    def p50(name: str, c: int) -> float:
        return figures[(name, c)].p50_ms

    side_by_side(figures, args)
    checks: list[tuple[str, Callable[[], float], float, str]] = [
        ("trips CPU per GetTrip <= 0.6 ms", lambda: cpu("gRPC GetTrip", high, "trips"), 0.6, "le"),
        (
            f"gRPC GetTrip c={high} >= 60 % of bare grpc.aio",
            lambda: rps("gRPC GetTrip", high) / rps(CEILING_GRPC, high) * 100,
            60,
            "ge",
        ),
        (
            "gateway CPU per request <= 0.5 ms",
            lambda: cpu("REST GetTrip", high, "gateway"),
            0.5,
            "le",
        ),
        (
            f"REST GetTrip c={high} >= 85 % of direct gRPC",
            lambda: rps("REST GetTrip", high) / rps("gRPC GetTrip", high) * 100,
            85,
            "ge",
        ),
        (
            f"REST GetTrip p50 c={low} within 0.3 ms of gRPC",
            lambda: p50("REST GetTrip", low) - p50("gRPC GetTrip", low),
            0.3,
            "le",
        ),
    ]
    for name in ("auth", "trips", "travel", "assistant", "gateway"):
        limit = 120.0 if name == "travel" else 80.0
        checks.append(
            (f"{name} resident memory <= {limit:.0f} MB", lambda n=name: rss[n], limit, "le")
        )
    print("targets (issue 10), from this run:")
    for label, value_of, bound, sense in checks:
        try:
            value = value_of()
        except KeyError:  # a case left out with --only
            print(f"  ----  {label:<48} (not measured)")
            continue
        held = value <= bound if sense == "le" else value >= bound
        print(f"  {'PASS' if held else 'FAIL'}  {label:<48} {value:8.2f}")


CEILING_GRPC = "ceiling gRPC (bare grpc.aio)"


def side_by_side(figures: dict[tuple[str, int], Figures], args: Any) -> None:
    """The trips processes started beside the suite, each alike but for one thing:
    tracing off (no endpoint) / none / on, and this checkout / the compared one."""
    rows = [
        ("tracing off (no endpoint)", "gRPC GetTrip, tracing off", "trips-trace-off"),
        ("tracing none (endpoint set)", "gRPC GetTrip, tracing none", "trips-trace-none"),
        ("tracing on (OTLP sink)", "gRPC GetTrip, tracing on", "trips-trace-on"),
        ("this checkout, beside", "gRPC GetTrip, this", "trips-this"),
        ("compared checkout, beside", "gRPC GetTrip, compared", "trips-compared"),
        ("ListTrips, this, beside", "gRPC ListTrips, this", "trips-this"),
        ("ListTrips, compared, beside", "gRPC ListTrips, compared", "trips-compared"),
    ]
    present = [row for row in rows if any((row[1], c) in figures for c in args.concurrency)]
    if len(present) < 2:
        return
    print("trips processes side by side (gRPC, this run):")
    for c in args.concurrency:
        for label, case, process in present:
            f = figures.get((case, c))
            if f is None:
                continue
            print(
                f"  c={c:<3} {label:<28} {f.rps:8.0f} rps  p50 {f.p50_ms:7.2f} ms"
                f"  CPU {f.cpu_ms[process]:6.3f} ms/req"
            )
    print()


if __name__ == "__main__":
    main()
