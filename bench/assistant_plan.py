"""The offline planner at scale: how long a plan takes, and how many an independent
checker passes.

Starts the suite with the launcher (embedded PostgreSQL and Valkey unless POSTGRES_URL /
REDIS_URL are set; no model configured, so PlanTrip uses the offline planner over the
sandbox providers), then sends `--requests` generated PlanTrip requests one after the
other: structured ones (a destination, dates, a party with children of various ages,
rooms, a room type, stay amenities, interests, up to two diets, wheelchair access,
pace, no-flights, an origin, a budget that is sometimes too small) and plain-English
prompts built from templates ("Plan 4 days in Lisbon from London in May for two,
about 2000 euros, we love food and museums"). Each returned plan goes through
tests/support/plan_checker.py, which shares no code with the planner, with each
meal's and visit's place looked up by GetPlace (opening hours, diets, access) and
each stay by GetAccommodation for the party (rate, room kind, capacity, amenities).
It prints:

- plan time: median and p95 of PlanTrip's round trip over gRPC;
- delivered: plans returned, and refusals that name their constraint (ErrorInfo
  metadata `constraint`), and anything else (should be none);
- pass rates over the delivered plans, as TravelPlanner reports them: final (every
  constraint), commonsense (every commonsense constraint), hard (every hard one), and
  the constraints that broke most often. The target is at least 95 % for each.

Not a test; figures depend on the machine. The same seed gives the same requests.

    uv run python bench/assistant_plan.py [--requests 300] [--seed 7]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import grpc
from google.protobuf import json_format
from google.type import money_pb2

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from assistant_stream import sign_up  # noqa: E402
from read_path import start_suite  # noqa: E402

from tests.support.errors import error_info  # noqa: E402
from tests.support.plan_checker import COMMONSENSE, HARD, check, places_of  # noqa: E402
from tripsage.assistant.v1 import assistant_service_pb2 as pb  # noqa: E402
from tripsage.assistant.v1 import assistant_service_pb2_grpc as pb_grpc  # noqa: E402
from tripsage.travel.v1 import travel_service_pb2_grpc as travel_grpc  # noqa: E402

CITIES = ("Lisbon", "Paris", "Rome", "Barcelona", "Berlin", "Amsterdam", "Madrid", "Prague",
          "Vienna", "Porto", "Dublin", "Athens")  # fmt: skip
ORIGINS = ("London", "New York", "Frankfurt", "Dublin", "Zurich", "Copenhagen")
INTERESTS = ("museums", "food", "history", "parks", "art", "architecture", "nightlife")
DIETS = ("vegetarian", "vegan", "gluten-free")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")  # fmt: skip
PARTY = {1: "for one", 2: "for two", 3: "for three", 4: "for four"}


def structured(rng: random.Random, today: date) -> pb.PlanTripRequest:
    start = today + timedelta(days=rng.randint(10, 300))
    days = rng.randint(1, 7)
    children = rng.choice((0, 0, 0, 1, 2))
    request = pb.PlanTripRequest(
        destination=rng.choice(CITIES),
        start_date=start.isoformat(),
        end_date=(start + timedelta(days=days - 1)).isoformat(),
        adults=rng.randint(1, 4),
        child_ages=[rng.randint(0, 17) for _ in range(children)],
        interests=rng.sample(INTERESTS, rng.randint(0, 3)),
        dietary=rng.sample(DIETS, rng.choice((0, 0, 0, 1, 1, 2))),
        accessibility=["wheelchair"] if rng.random() < 0.15 else [],
        pace=rng.choice(("", "relaxed", "moderate", "packed")),
        no_flights=rng.random() < 0.2,
    )
    if rng.random() < 0.3:
        request.rooms = rng.randint(1, min(2, request.adults))  # a room needs an adult
    if rng.random() < 0.2:
        request.room_type = rng.choice(("double", "family"))
    if rng.random() < 0.2:
        request.stay_amenities.append(rng.choice(("wifi", "breakfast", "parking")))
    if rng.random() < 0.6:
        request.origin = rng.choice(ORIGINS)
    if rng.random() < 0.5:
        request.budget.CopyFrom(money_pb2.Money(currency_code="EUR", units=rng.randint(150, 9000)))
    return request


def prompt(rng: random.Random) -> tuple[pb.PlanTripRequest, pb.PlanTripRequest]:
    """A plain-English request, and the same request as fields (what the checker holds
    the plan to: the prompt must have been understood)."""
    days, city, adults = rng.randint(2, 6), rng.choice(CITIES), rng.randint(1, 4)
    meant = pb.PlanTripRequest(destination=city, adults=adults)
    words = [f"Plan {days} days in {city}"]
    if rng.random() < 0.7:
        meant.origin = rng.choice(ORIGINS)
        words.append(f"from {meant.origin}")
    words.append(f"in {rng.choice(MONTHS)} {PARTY[adults]}")
    if rng.random() < 0.6:
        amount = rng.randrange(300, 6000, 50)
        meant.budget.CopyFrom(money_pb2.Money(currency_code="EUR", units=amount))
        words.append(f"about {amount} euros")
    meant.interests.extend(rng.sample(INTERESTS, rng.randint(1, 2)))
    text = " ".join(words) + f", we love {' and '.join(meant.interests)}"
    if rng.random() < 0.3:
        meant.dietary.append(rng.choice(DIETS))
        text += f", I'm {meant.dietary[0]}"
    return pb.PlanTripRequest(prompt=text), meant


Asked = tuple[pb.PlanTripRequest, pb.PlanTripRequest]  # what is sent, what it means


async def run(addresses: dict[str, str], token: str, requests: list[Asked]) -> None:
    metadata = (("authorization", f"Bearer {token}"),)
    times: list[float] = []
    delivered: list[set[str]] = []
    examples: list[str] = []
    refusals: collections.Counter[str] = collections.Counter()
    others: collections.Counter[str] = collections.Counter()
    async with (
        grpc.aio.insecure_channel(addresses["assistant"]) as channel,
        grpc.aio.insecure_channel(addresses["travel"]) as travel_channel,
    ):
        stub = pb_grpc.AssistantServiceStub(channel)
        travel = travel_grpc.TravelServiceStub(travel_channel)
        for request, _ in requests[:5]:  # warm-up: reference data, caches, connections
            with contextlib.suppress(grpc.aio.AioRpcError):  # refusals warm up too
                await stub.PlanTrip(request, metadata=metadata)
        for request, meant in requests:
            sent = time.perf_counter()
            try:
                reply = await stub.PlanTrip(request, metadata=metadata, timeout=60)
            except grpc.aio.AioRpcError as error:
                times.append(time.perf_counter() - sent)
                if error.code() == grpc.StatusCode.FAILED_PRECONDITION:
                    refusals[
                        named := error_info(error).metadata.get("constraint") or "(none named)"
                    ] += 1
                    if named.startswith("search_") and len(examples) < 6:
                        examples.append(f"refused: {error.details()} for {_fields(request)}")
                else:
                    others[f"{error.code().name}: {error.details()}"] += 1
                    if len(examples) < 6:
                        examples.append(f"{error.code().name} for {_fields(request)}")
                continue
            times.append(time.perf_counter() - sent)
            places = await places_of(travel, reply.plan, metadata, meant)  # as anyone could
            delivered.append(broken := check(reply.plan, meant, places))
            if broken and len(examples) < 3:
                examples.append(f"{sorted(broken)} for {_fields(request)}")
    report(len(requests), times, delivered, refusals, others)
    for example in examples:
        print(f"    e.g. {example}")


def _fields(request: pb.PlanTripRequest) -> str:
    return str(json_format.MessageToJson(request, indent=None))


def report(
    total: int,
    times: list[float],
    delivered: list[set[str]],
    refusals: collections.Counter[str],
    others: collections.Counter[str],
) -> None:
    ms = sorted(t * 1000 for t in times)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    print(f"{total} PlanTrip requests, one at a time, offline planner on the sandbox")
    print(f"  plan time      median {statistics.median(ms):7.1f} ms   p95 {p95:7.1f} ms")
    named = sum(n for c, n in refusals.items() if c != "(none named)")
    print(f"  delivered      {len(delivered)} plans; {sum(refusals.values())} refusals"
          f" ({named} naming their constraint: {dict(refusals)}); other errors"
          f" {sum(others.values())}")  # fmt: skip
    for problem, count in others.most_common(5):
        print(f"    {count} x {problem}")
    if not delivered:
        return
    rates = {
        "final": sum(not broken for broken in delivered),
        "commonsense": sum(not broken & set(COMMONSENSE) for broken in delivered),
        "hard": sum(not broken & set(HARD) for broken in delivered),
    }
    for name, passed in rates.items():
        rate = 100 * passed / len(delivered)
        verdict = "meets" if rate >= 95 else "MISSES"
        print(f"  pass rate {name:<12} {rate:5.1f} %  ({passed}/{len(delivered)}; target 95 %:"
              f" {verdict})")  # fmt: skip
    broken = collections.Counter(c for b in delivered for c in b)
    if broken:
        print(f"  broken most often: {dict(broken.most_common(6))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    today = datetime.now(UTC).date()
    requests: list[Asked] = []
    for _ in range(args.requests):
        if rng.random() < 0.3:
            requests.append(prompt(rng))
        else:
            request = structured(rng, today)
            requests.append((request, request))
    with tempfile.TemporaryDirectory(prefix="tripsage-bench-") as tmp:
        log = open(Path(tmp) / "suite.log", "wb")  # noqa: SIM115 (closed below)
        suite, addresses, gateway = start_suite(
            Path(tmp) / "data", log, ASSISTANT_DAILY_MESSAGES="0"
        )
        try:
            asyncio.run(_main(addresses, gateway, requests))
        finally:
            suite.stop()
            log.close()


async def _main(addresses: dict[str, str], gateway: int, requests: list[Asked]) -> None:
    await run(addresses, await sign_up(gateway), requests)


if __name__ == "__main__":
    main()
