"""Load and soak: a realistic mix of what travellers do, through the gateway, against the
suite as `tripsage up` runs it (issue 15). Not a test; figures depend on the machine.

Starts the suite (bench.read_path.start_suite: embedded PostgreSQL and Valkey unless
POSTGRES_URL / REDIS_URL are set; rate limits on but high), signs up `--users`
travellers who own a few trips with items, then drives the mix over REST/JSON:

    sign in 2 %, list trips 25 %, read a trip 25 %, list a trip's items 10 %,
    edit an item 8 %, add an item 4 %, flight search 12 %, stay search 6 %,
    chat message (offline assistant) 4 %, plan a trip 4 %

Load mode (default) raises the concurrency step by step (`--levels`, each for
`--step-seconds`) and stops at the first step whose error rate passes `--max-errors`
or whose overall p99 passes `--max-p99-ms`. It prints, per step and per operation,
throughput, p50, p99 and errors, and the knee: the last step before throughput
stopped growing by at least 10 % or a bound broke.

Soak mode (`--soak SECONDS`) holds `--concurrency` for that long and prints each
process's resident memory, open TCP connections and file descriptors at the start and
the end (after a warm-up step), and the mix's figures over the whole soak: flat, not
growing, is the expectation.

    uv run python bench/load_mix.py [--levels 1 4 16 32 64] [--step-seconds 10]
    uv run python bench/load_mix.py --soak 600 --concurrency 16
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.read_path import start_suite  # noqa: E402

PASSWORD = "load mix passphrase 42"
CITIES = [("LIS", "Lisbon"), ("OPO", "Porto"), ("MAD", "Madrid"), ("BCN", "Barcelona")]


@dataclass
class Traveller:
    email: str
    token: str
    trips: list[str]
    items: dict[str, list[str]]

    @property
    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token}"}


@dataclass
class Tally:
    """Latencies (ms) and errors of one operation in one step."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=lambda: defaultdict(int))


def day(ahead: int) -> str:
    return (dt.date.today() + dt.timedelta(days=ahead)).isoformat()


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


# -- the mix ---------------------------------------------------------------------------


async def _sign_in(http: httpx.AsyncClient, who: Traveller, rng: random.Random) -> httpx.Response:
    reply = await http.post("/api/v1/auth/login", json={"email": who.email, "password": PASSWORD})
    if reply.status_code == 200:
        who.token = reply.json()["accessToken"]
    return reply


async def _list_trips(http: httpx.AsyncClient, who: Traveller, rng: random.Random):
    return await http.get("/api/v1/trips", headers=who.headers)


async def _get_trip(http: httpx.AsyncClient, who: Traveller, rng: random.Random):
    return await http.get(f"/api/v1/trips/{rng.choice(who.trips)}", headers=who.headers)


async def _list_items(http: httpx.AsyncClient, who: Traveller, rng: random.Random):
    return await http.get(f"/api/v1/trips/{rng.choice(who.trips)}/items", headers=who.headers)


async def _edit_item(http: httpx.AsyncClient, who: Traveller, rng: random.Random):
    trip = rng.choice(who.trips)
    item = rng.choice(who.items[trip])
    return await http.patch(
        f"/api/v1/trips/{trip}/items/{item}",
        json={"description": f"note {rng.randrange(10**6)}"},
        params={"updateMask": "description"},
        headers=who.headers,
    )


async def _add_item(http: httpx.AsyncClient, who: Traveller, rng: random.Random):
    trip = rng.choice(who.trips)
    reply = await http.post(
        f"/api/v1/trips/{trip}/items",
        json={"kind": "ITINERARY_ITEM_KIND_ACTIVITY", "title": f"Visit {rng.randrange(1000)}"},
        headers=who.headers,
    )
    if reply.status_code == 201:
        who.items[trip].append(reply.json()["item"]["id"])
    return reply


async def _search_flights(http: httpx.AsyncClient, who: Traveller, rng: random.Random):
    (origin, _), (destination, _) = rng.sample(CITIES, 2)
    # A handful of distinct searches, as many travellers ask for the same routes: cache hits.
    when = day(30 + rng.randrange(5))
    return await http.post(
        "/api/v1/flights:search",
        json={"slices": [{"origin": origin, "destination": destination, "departureDate": when}]},
        headers=who.headers,
    )


async def _search_stays(http: httpx.AsyncClient, who: Traveller, rng: random.Random):
    _, city = rng.choice(CITIES)
    start = 30 + rng.randrange(5)
    return await http.post(
        "/api/v1/accommodations:search",
        json={"destination": city, "checkInDate": day(start), "checkOutDate": day(start + 2)},
        headers=who.headers,
    )


async def _chat(http: httpx.AsyncClient, who: Traveller, rng: random.Random):
    made = await http.post("/api/v1/conversations", json={"title": "Load"}, headers=who.headers)
    if made.status_code != 200:
        return made
    conversation = made.json()["conversation"]["id"]
    _, city = rng.choice(CITIES)
    return await http.post(
        f"/api/v1/conversations/{conversation}/messages",
        json={"content": f"What is the weather in {city} on {day(10)}?"},
        headers=who.headers,
    )


async def _plan(http: httpx.AsyncClient, who: Traveller, rng: random.Random):
    (origin, _), (_, city) = rng.sample(CITIES, 2)
    start = 40 + rng.randrange(20)
    return await http.post(
        "/api/v1/trips:plan",
        json={
            "destination": city,
            "origin": origin,
            "startDate": day(start),
            "endDate": day(start + 3),
            "adults": 2,
        },
        headers=who.headers,
    )


Operation = Callable[[httpx.AsyncClient, Traveller, random.Random], Awaitable[httpx.Response]]
MIX: list[tuple[str, Operation, int]] = [
    ("sign in", _sign_in, 2),
    ("list trips", _list_trips, 25),
    ("read a trip", _get_trip, 25),
    ("list items", _list_items, 10),
    ("edit an item", _edit_item, 8),
    ("add an item", _add_item, 4),
    ("flight search", _search_flights, 12),
    ("stay search", _search_stays, 6),
    ("chat message", _chat, 4),
    ("plan a trip", _plan, 4),
]
OK_STATUSES = {200, 201}


# -- seeding and driving ---------------------------------------------------------------


async def seed(base: str, users: int) -> list[Traveller]:
    travellers = []
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        for n in range(users):
            email = f"load{n}-{int(time.time())}@example.com"
            made = await http.post(
                "/api/v1/auth/register",
                json={"email": email, "password": PASSWORD, "fullName": f"Load {n}"},
            )
            made.raise_for_status()
            who = Traveller(email, made.json()["accessToken"], [], {})
            for t in range(4):
                trip = await http.post(
                    "/api/v1/trips",
                    json={"title": f"Trip {t}", "startDate": day(30), "endDate": day(34)},
                    headers=who.headers,
                )
                trip.raise_for_status()
                trip_id = trip.json()["trip"]["id"]
                who.trips.append(trip_id)
                who.items[trip_id] = []
                for i in range(3):
                    item = await http.post(
                        f"/api/v1/trips/{trip_id}/items",
                        json={"kind": "ITINERARY_ITEM_KIND_ACTIVITY", "title": f"Item {i}"},
                        headers=who.headers,
                    )
                    item.raise_for_status()
                    who.items[trip_id].append(item.json()["item"]["id"])
            travellers.append(who)
    return travellers


async def drive(
    base: str, travellers: list[Traveller], concurrency: int, seconds: float, seed_value: int
) -> dict[str, Tally]:
    tallies: dict[str, Tally] = defaultdict(Tally)
    names = [name for name, _, _ in MIX]
    operations = {name: op for name, op, _ in MIX}
    weights = [weight for _, _, weight in MIX]
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def worker(index: int, http: httpx.AsyncClient) -> None:
        rng = random.Random(seed_value * 1000 + index)
        while time.monotonic() < deadline:
            name = rng.choices(names, weights)[0]
            who = rng.choice(travellers)
            started = time.perf_counter()
            tally = tallies[name]
            try:
                reply = await operations[name](http, who, rng)
            except httpx.HTTPError:
                tally.errors += 1
                continue
            tally.latencies.append((time.perf_counter() - started) * 1000)
            tally.statuses[reply.status_code] += 1
            if reply.status_code not in OK_STATUSES:
                tally.errors += 1

    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as http:
        await asyncio.gather(*(worker(i, http) for i in range(concurrency)))
    return tallies


# -- reporting -------------------------------------------------------------------------


@dataclass
class Step:
    concurrency: int
    seconds: float
    tallies: dict[str, Tally]

    @property
    def calls(self) -> int:
        return sum(len(t.latencies) + t.errors for t in self.tallies.values())

    @property
    def errors(self) -> int:
        return sum(t.errors for t in self.tallies.values())

    @property
    def rps(self) -> float:
        return self.calls / self.seconds

    @property
    def p99(self) -> float:
        return percentile([x for t in self.tallies.values() for x in t.latencies], 0.99)

    @property
    def error_rate(self) -> float:
        return self.errors / self.calls if self.calls else 1.0


def print_step(step: Step) -> None:
    print(
        f"\nc={step.concurrency}: {step.rps:.1f} calls/s, p99 {step.p99:.1f} ms, "
        f"errors {step.errors} of {step.calls} ({100 * step.error_rate:.2f} %)"
    )
    print(f"  {'operation':<14} {'calls/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}  statuses")
    for name, _, _ in MIX:
        tally = step.tallies.get(name)
        if tally is None:
            continue
        statuses = ", ".join(f"{code}: {n}" for code, n in sorted(tally.statuses.items()))
        print(
            f"  {name:<14} {len(tally.latencies) / step.seconds:>8.1f} "
            f"{statistics.median(tally.latencies) if tally.latencies else 0:>8.1f} "
            f"{percentile(tally.latencies, 0.99):>8.1f} {tally.errors:>7}  {statuses}"
        )


def knee(steps: list[Step], broke: bool) -> Step:
    """The last step whose throughput grew at least 10 % over the one before it (the last
    sound step when growth never stopped); the step that broke a bound never counts."""
    sound = (steps[:-1] if broke else steps) or steps[:1]
    best = sound[0]
    for before, after in itertools.pairwise(sound):
        if after.rps < before.rps * 1.10:
            return before
        best = after
    return best


def resources(processes: dict[str, psutil.Process]) -> dict[str, tuple[float, int, int]]:
    """Per process: RSS in MB, open TCP connections, open file descriptors."""
    found = {}
    for name, process in processes.items():
        try:
            found[name] = (
                process.memory_info().rss / 2**20,
                len(process.net_connections("tcp")),
                process.num_fds(),
            )
        except psutil.Error:
            found[name] = (0.0, 0, 0)
    return found


def print_resources(start: dict[str, tuple[float, int, int]], end: dict[str, Any]) -> None:
    print(f"\n  {'process':<10} {'RSS MB start → end':>22} {'TCP conns':>14} {'fds':>12}")
    for name, (rss, conns, fds) in start.items():
        rss2, conns2, fds2 = end[name]
        print(
            f"  {name:<10} {rss:>9.1f} → {rss2:<9.1f} ({rss2 - rss:+.1f}) "
            f"{conns:>4} → {conns2:<4} {fds:>4} → {fds2:<4}"
        )


# -- the run ---------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 4, 8, 16, 32, 64])
    parser.add_argument("--step-seconds", type=float, default=10.0)
    parser.add_argument("--max-errors", type=float, default=0.01, help="error rate bound")
    parser.add_argument("--max-p99-ms", type=float, default=2000.0)
    parser.add_argument("--soak", type=float, default=0.0, help="soak for this many seconds")
    parser.add_argument("--concurrency", type=int, default=16, help="the soak's concurrency")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="tripsage-load-"))
    log = open(work / "suite.log", "wb")  # noqa: SIM115 - open for the whole run
    print(f"starting the suite (logs in {log.name}) ...", flush=True)
    suite, _, gateway_port = start_suite(work / "data", log)
    base = f"http://127.0.0.1:{gateway_port}"
    try:
        travellers = asyncio.run(seed(base, args.users))
        print(f"{len(travellers)} travellers with 4 trips and 12 items each", flush=True)
        if args.soak:
            soak(base, travellers, suite, args)
        else:
            load(base, travellers, args)
    finally:
        suite.stop()
        log.close()


def load(base: str, travellers: list[Traveller], args: argparse.Namespace) -> None:
    steps: list[Step] = []
    broke = False
    for n, concurrency in enumerate(args.levels):
        tallies = asyncio.run(drive(base, travellers, concurrency, args.step_seconds, n))
        step = Step(concurrency, args.step_seconds, tallies)
        steps.append(step)
        print_step(step)
        if step.error_rate > args.max_errors or step.p99 > args.max_p99_ms:
            broke = True
            print(
                f"  bound broken at c={concurrency} (error rate <= {100 * args.max_errors:.1f} %, "
                f"p99 <= {args.max_p99_ms:.0f} ms)"
            )
            break
    best = knee(steps, broke)
    print(
        f"\nknee: c={best.concurrency}, {best.rps:.1f} calls/s, p99 {best.p99:.1f} ms, "
        f"errors {100 * best.error_rate:.2f} %"
    )


def soak(base: str, travellers: list[Traveller], suite: Any, args: argparse.Namespace) -> None:
    processes = {name: psutil.Process(proc.pid) for name, proc in suite.processes.items()}
    warm = asyncio.run(drive(base, travellers, args.concurrency, min(30.0, args.soak / 10), 0))
    print_step(Step(args.concurrency, min(30.0, args.soak / 10), warm))
    start = resources(processes)
    tallies = asyncio.run(drive(base, travellers, args.concurrency, args.soak, 1))
    end = resources(processes)
    print(f"\nsoak: {args.soak:.0f} s at c={args.concurrency}")
    print_step(Step(args.concurrency, args.soak, tallies))
    print_resources(start, end)


if __name__ == "__main__":
    main()
