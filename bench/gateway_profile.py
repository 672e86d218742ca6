"""The gateway alone, for profiling: its CPU per proxied GetTrip, and where it goes.

Starts the suite as bench/read_path.py does (its `start_suite` and `seed`),
records the realistic trip's GetTrip reply, and serves those bytes from a bare
grpc.aio stand-in for the trips service, so the gateway, not the service, sets
the pace. A gateway process (`python -m gateway`, the suite's settings) is
started against it, and one more from `--compare DIR` (another checkout, e.g.
`git archive main | tar -x -C DIR`) if given; then, interleaved for
`--rounds` rounds, wrk loads `GET /api/v1/trips/{id}` at `--concurrency` and
the gateway's CPU per request, rps, p50 and RSS are printed. With
`--py-spy FILE` the first gateway is also recorded during one more run
(FILE.raw for flamegraph.pl; the heaviest frames printed). CPU per request is
the figure to trust on a shared machine; rps moves with whatever else runs.
Not a test.

    uv run --with py-spy python bench/gateway_profile.py [--compare DIR] [--py-spy /tmp/gw]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from read_path import (  # noqa: E402
    Figures,
    _get_trip_bytes,
    measure,
    seed,
    start_suite,
    wrk_load,
)

from tripsage_core.embedded import free_port  # noqa: E402


def heaviest(raw: Path, count: int = 40) -> list[tuple[float, str]]:
    """Inclusive share of the busiest frames in a py-spy raw profile."""
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, samples = line.rpartition(" ")
        frames = [re.sub(r":\d+\)", ")", frame) for frame in stack.split(";")]
        total += int(samples)
        for frame in set(frames):
            inclusive[frame] += int(samples)
    return [(100 * n / max(total, 1), frame) for frame, n in inclusive.most_common(count)]


async def _serve_bare(port: int, answer: bytes) -> None:
    """A trips stand-in: GetTrip answers the recorded reply's bytes, nothing else runs."""
    import grpc
    from grpc import aio

    async def get_trip(request: bytes, context: aio.ServicerContext[bytes, bytes]) -> bytes:
        return answer

    handler = grpc.method_handlers_generic_handler(
        "tripsage.trips.v1.TripService", {"GetTrip": grpc.unary_unary_rpc_method_handler(get_trip)}
    )
    server = aio.server()
    server.add_generic_rpc_handlers((handler,))
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    await server.wait_for_termination()


def _start_gateway(source: Path, trips: str, log: Any) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = os.environ | {"PORT": str(port), "TRIPS_SERVICE_ADDR": trips, "PYTHONPATH": str(source)}
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway"], cwd=source, env=env, stdout=log, stderr=log
    )
    return process, port


def _wait_for(url: str, token: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, headers={"authorization": f"Bearer {token}"}).status_code == 200:
                return
        time.sleep(0.3)
    raise SystemExit(f"no answer from {url}")


def main() -> None:
    if sys.argv[1:2] == ["serve"]:
        asyncio.run(_serve_bare(int(sys.argv[2]), Path(sys.argv[3]).read_bytes()))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--py-spy", dest="py_spy", type=Path, default=None)
    parser.add_argument(
        "--compare", type=Path, default=None, help="another checkout's root, measured interleaved"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tripsage-gateway-profile-"))
    started: list[subprocess.Popen[bytes]] = []
    with open(work / "suite.log", "wb") as log:
        suite, addresses, _ = start_suite(work / "data", log)
        try:
            token, trip_id = asyncio.run(seed(addresses))
            answer = work / "answer.bin"
            answer.write_bytes(asyncio.run(_get_trip_bytes(addresses["trips"], trip_id, token)))
            bare = free_port()
            started.append(
                subprocess.Popen(
                    [sys.executable, __file__, "serve", str(bare), str(answer)],
                    stdout=log,
                    stderr=log,
                )
            )
            sources = {"this checkout": REPO}
            if args.compare is not None:
                sources["compared"] = args.compare.resolve()
            gateways: dict[str, tuple[psutil.Process, str]] = {}
            for name, source in sources.items():
                process, port = _start_gateway(source, f"127.0.0.1:{bare}", log)
                started.append(process)
                url = f"http://127.0.0.1:{port}/api/v1/trips/{trip_id}"
                gateways[name] = (psutil.Process(process.pid), url)
            for _, url in gateways.values():
                _wait_for(url, token)
            runs: dict[str, list[Figures]] = {name: [] for name in gateways}
            for _ in range(args.rounds):
                for name, (process, url) in gateways.items():
                    load = wrk_load(url, token, args.concurrency, args.seconds)
                    runs[name].append(measure(load, {"gateway": process}))
            print(
                f"REST GetTrip through the gateway to a bare GetTrip upstream, "
                f"c={args.concurrency}, {args.rounds} x {args.seconds:g} s, interleaved"
            )
            for name, figures in runs.items():
                cpu = [f.cpu_ms["gateway"] for f in figures]
                rss = gateways[name][0].memory_info().rss / 2**20
                print(
                    f"  {name:<14} gateway CPU ms/request median {statistics.median(cpu):.3f} "
                    f"({', '.join(f'{v:.3f}' for v in cpu)}); "
                    f"rps {statistics.median(f.rps for f in figures):.0f}; "
                    f"p50 {statistics.median(f.p50_ms for f in figures):.2f} ms; RSS {rss:.0f} MB"
                )
            if args.py_spy is not None:
                process, url = gateways["this checkout"]
                raw = args.py_spy.with_suffix(".raw")
                spy = subprocess.Popen(
                    ["py-spy", "record", "--pid", str(process.pid), "--rate", "500",
                     "--duration", str(round(args.seconds)), "--format", "raw",
                     "-o", str(raw), "--nonblocking"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )  # fmt: skip
                wrk_load(url, token, args.concurrency, args.seconds)()
                spy.wait()
                for share, frame in heaviest(raw):
                    print(f"  {share:5.1f}%  {frame}")
        finally:
            for process in started:
                process.terminate()
                process.wait()
            suite.stop()


if __name__ == "__main__":
    main()
