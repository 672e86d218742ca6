"""A closed-loop gRPC load generator: C callers send one unary request again and again.

Run as its own process (so its CPU is not counted against the server) by the
read-path benchmarks; prints one JSON line with the count, errors and latency
percentiles of the calls made after the warm-up. The request is given as raw
bytes (hex) and sent without a serialiser, so any method can be driven.

    python bench/load_grpc.py ADDRESS METHOD REQUEST_HEX [--concurrency 32]
        [--seconds 5] [--warmup 1] [--metadata key=value ...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import grpc


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, round(fraction * (len(sorted_values) - 1)))
    return sorted_values[index]


async def run(args: argparse.Namespace) -> dict[str, float]:
    request = bytes.fromhex(args.request_hex)
    metadata = tuple(tuple(item.split("=", 1)) for item in args.metadata)
    latencies: list[float] = []
    errors = 0
    async with grpc.aio.insecure_channel(args.address) as channel:
        call = channel.unary_unary(args.method)
        await call(request, metadata=metadata, timeout=10)  # connect before timing
        start = time.perf_counter()
        measure_from = start + args.warmup
        stop_at = measure_from + args.seconds

        async def caller() -> None:
            nonlocal errors
            while True:
                began = time.perf_counter()
                if began >= stop_at:
                    return
                try:
                    await call(request, metadata=metadata, timeout=10)
                    ok = True
                except grpc.aio.AioRpcError:
                    ok = False
                ended = time.perf_counter()
                if began >= measure_from:
                    if ok:
                        latencies.append(ended - began)
                    else:
                        errors += 1

        await asyncio.gather(*(caller() for _ in range(args.concurrency)))
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": errors,
        "seconds": args.seconds,
        "rps": len(latencies) / args.seconds,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("address")
    parser.add_argument("method")
    parser.add_argument("request_hex")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--metadata", action="append", default=[])
    print(json.dumps(asyncio.run(run(parser.parse_args()))), flush=True)


if __name__ == "__main__":
    main()
