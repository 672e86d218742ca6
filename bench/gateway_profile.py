"""The gateway alone, for profiling: its CPU per proxied GetTrip, and where it goes.

Starts the suite as bench/read_path.py does (its `start_suite` and `seed`),
then, for `--rounds` rounds, loads `GET /api/v1/trips/{id}` with wrk at
`--concurrency` and prints the gateway's CPU per request and its rps; with
`--py-spy FILE` it also records the gateway with py-spy during one more run
(FILE.raw for flamegraph.pl, and the heaviest frames printed, idle excluded).
CPU per request is the figure to trust on a shared machine; rps moves with
whatever else runs. Not a test.

    uv run python bench/gateway_profile.py [--seconds 5] [--rounds 3] [--py-spy /tmp/gw]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from read_path import measure, process_tree_cpu, seed, start_suite, wrk_load  # noqa: E402


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--py-spy", dest="py_spy", type=Path, default=None)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tripsage-gateway-profile-"))
    with open(work / "suite.log", "wb") as log:
        suite, addresses, port = start_suite(work / "data", log)
        try:
            token, trip_id = asyncio.run(seed(addresses))
            gateway = psutil.Process(suite.processes["gateway"].pid)
            url = f"http://127.0.0.1:{port}/api/v1/trips/{trip_id}"
            load = wrk_load(url, token, args.concurrency, args.seconds)
            runs = [measure(load, {"gateway": gateway}) for _ in range(args.rounds)]
            cpu = [run.cpu_ms["gateway"] for run in runs]
            print(f"REST GetTrip c={args.concurrency}, {args.rounds} x {args.seconds:g} s")
            print("  gateway CPU ms/request: " + ", ".join(f"{v:.3f}" for v in cpu))
            print(
                f"  median {statistics.median(cpu):.3f} ms; rps "
                + ", ".join(f"{run.rps:.0f}" for run in runs)
            )
            print(f"  gateway resident memory {gateway.memory_info().rss / 2**20:.0f} MB")
            if args.py_spy is not None:
                raw = args.py_spy.with_suffix(".raw")
                spy = subprocess.Popen(
                    ["py-spy", "record", "--pid", str(gateway.pid), "--rate", "500",
                     "--duration", str(round(args.seconds)), "--format", "raw",
                     "-o", str(raw), "--nonblocking"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )  # fmt: skip
                before = process_tree_cpu(gateway)
                load()
                spy.wait()
                print(f"  (profiled run: {process_tree_cpu(gateway) - before:.2f} s of CPU)")
                for share, frame in heaviest(raw):
                    print(f"  {share:5.1f}%  {frame}")
        finally:
            suite.stop()


if __name__ == "__main__":
    main()
