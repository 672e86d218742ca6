"""Resident memory of every TripSage process after warm-up, against issue 10's ceilings.

Starts the suite as `tripsage up` runs it (bench.read_path.start_suite: embedded
PostgreSQL and Valkey unless POSTGRES_URL / REDIS_URL are set), registers a
traveller, warms every service with a few real calls (auth: sign-in and a
provider-key look-up; trips: create, get, list; travel: flights, stays, places,
geocoding, weather, airports; assistant: a conversation; the gateway: the same
reads over REST), then prints each process's resident set size (its own, not its
children's: the embedded servers are measured apart) against its ceiling:
80 MB each, travel 120 MB with its reference data. Not a test; figures depend
on the machine.

Python compiles every module it imports from source when no bytecode is cached
(and PYTHONDONTWRITEBYTECODE=1, set here and in the image, keeps it from caching):
that costs about 15 MB resident per process. The image compiles the libraries'
bytecode when it installs them (UV_COMPILE_BYTECODE=1), so by default this
compiles the environment's and the project's bytecode first (`--as-is` skips it).

    uv run python bench/memory.py [--rounds 3] [--as-is]
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import json
import sys
import sysconfig
import tempfile
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.read_path import realistic_trip, start_suite  # noqa: E402
from tripsage.assistant.v1 import assistant_service_pb2 as assistant_pb  # noqa: E402
from tripsage.assistant.v1 import assistant_service_pb2_grpc as assistant_grpc  # noqa: E402
from tripsage.auth.v1 import auth_service_pb2 as auth_pb  # noqa: E402
from tripsage.auth.v1 import auth_service_pb2_grpc as auth_grpc  # noqa: E402
from tripsage.travel.v1 import travel_service_pb2 as travel_pb  # noqa: E402
from tripsage.travel.v1 import travel_service_pb2_grpc as travel_grpc  # noqa: E402
from tripsage.trips.v1 import trip_service_pb2 as trips_pb  # noqa: E402
from tripsage.trips.v1 import trip_service_pb2_grpc as trips_grpc  # noqa: E402

CEILINGS_MB = {"auth": 80.0, "trips": 80.0, "travel": 120.0, "assistant": 80.0, "gateway": 80.0}


def day(ahead: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=ahead)).isoformat()


async def warm(addresses: dict[str, str], gateway_port: int, rounds: int) -> None:
    """A few real calls on every service, so each has imported and cached what it uses."""
    email, password = f"memory-{uuid.uuid4().hex[:8]}@example.com", "a long bench password 1"
    async with grpc.aio.insecure_channel(addresses["auth"]) as channel:
        auth = auth_grpc.AuthServiceStub(channel)
        await auth.Register(auth_pb.RegisterRequest(email=email, password=password, full_name="M"))
        login = await auth.Login(auth_pb.LoginRequest(email=email, password=password))
    token = login.access_token
    metadata = (("authorization", f"Bearer {token}"),)
    for number in range(rounds):
        async with grpc.aio.insecure_channel(addresses["trips"]) as channel:
            trips = trips_grpc.TripServiceStub(channel)
            created = await trips.CreateTrip(
                trips_pb.CreateTripRequest(trip=realistic_trip(number)), metadata=metadata
            )
            trip_id = created.trip.id
            await trips.GetTrip(trips_pb.GetTripRequest(trip_id=trip_id), metadata=metadata)
            await trips.ListTrips(trips_pb.ListTripsRequest(), metadata=metadata)
        async with grpc.aio.insecure_channel(addresses["travel"]) as channel:
            travel = travel_grpc.TravelServiceStub(channel)
            slice_ = travel_pb.FlightSlice(
                origin="LIS", destination="OPO", departure_date=day(20 + number)
            )
            await travel.SearchFlights(
                travel_pb.SearchFlightsRequest(slices=[slice_]), metadata=metadata
            )
            await travel.SearchAccommodations(
                travel_pb.SearchAccommodationsRequest(
                    destination="Porto", check_in_date=day(20), check_out_date=day(22 + number)
                ),
                metadata=metadata,
            )
            await travel.SearchPlaces(
                travel_pb.SearchPlacesRequest(query=f"museums in Porto {number}"),
                metadata=metadata,
            )
            await travel.Geocode(travel_pb.GeocodeRequest(address="Valencia"), metadata=metadata)
            await travel.GetWeather(
                travel_pb.GetWeatherRequest(place="Venice", start_date=day(1), end_date=day(3)),
                metadata=metadata,
            )
            await travel.ListAirports(travel_pb.ListAirportsRequest(query="lis"), metadata=metadata)
        async with grpc.aio.insecure_channel(addresses["assistant"]) as channel:
            assistant = assistant_grpc.AssistantServiceStub(channel)
            conversation = await assistant.CreateConversation(
                assistant_pb.CreateConversationRequest(), metadata=metadata
            )
            await assistant.SendMessage(
                assistant_pb.SendMessageRequest(
                    conversation_id=conversation.conversation.id,
                    content="Find me flights from Lisbon to Porto next week",
                ),
                metadata=metadata,
            )
        for path in ("/api/v1/trips", f"/api/v1/trips/{trip_id}"):
            await asyncio.to_thread(_get_json, f"http://127.0.0.1:{gateway_port}{path}", token)


def _get_json(url: str, token: str) -> object:
    request = urllib.request.Request(url, headers={"authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as reply:
        return json.loads(reply.read())


def compile_bytecode() -> None:
    """What `UV_COMPILE_BYTECODE=1 uv sync` does for the image, and the project beside it."""
    places = [Path(sysconfig.get_paths()["purelib"]), *(REPO / d for d in PROJECT_DIRS)]
    for place in places:
        compileall.compile_dir(place, quiet=2, workers=2)


PROJECT_DIRS = ("tripsage", "tripsage_core", "services", "gateway")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="warm-up calls per service")
    parser.add_argument("--as-is", action="store_true", help="do not compile bytecode first")
    args = parser.parse_args()
    if not args.as_is:
        print("compiling bytecode (as the image does) ...", flush=True)
        compile_bytecode()
    work = Path(tempfile.mkdtemp(prefix="tripsage-memory-"))
    log = open(work / "suite.log", "wb")  # noqa: SIM115 - open for the whole run
    print(f"starting the suite (logs in {log.name}) ...", flush=True)
    started = time.perf_counter()
    suite, addresses, gateway_port = start_suite(work / "data", log)
    try:
        print(f"healthy after {time.perf_counter() - started:.1f} s; warming up ...", flush=True)
        asyncio.run(warm(addresses, gateway_port, args.rounds))
        time.sleep(1)  # let background work (metrics, log flushes) settle
        print(f"\n{'process':<11}{'RSS MB':>8}{'ceiling':>9}  result")
        failed = 0
        for name, process in suite.processes.items():
            rss = psutil.Process(process.pid).memory_info().rss / 2**20
            ceiling = CEILINGS_MB.get(name, 80.0)
            held = rss <= ceiling
            failed += not held
            print(f"{name:<11}{rss:>8.1f}{ceiling:>9.0f}  {'PASS' if held else 'FAIL'}")
        print(f"\n{len(suite.processes) - failed} of {len(suite.processes)} within their ceilings")
    finally:
        suite.stop()
        log.close()


if __name__ == "__main__":
    main()
