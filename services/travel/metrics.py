"""Prometheus metrics of the travel service: cache hits and misses, provider latency.

They live in prometheus_client's default registry; TRAVEL_METRICS_PORT serves
them over HTTP (prometheus_client.start_http_server) and the bench reads them
in-process.
"""

from __future__ import annotations

from functools import cache

from prometheus_client import Counter, Histogram

CACHE_LOOKUPS = Counter(
    "tripsage_travel_cache_lookups_total",
    "Search cache look-ups by content kind and result (local: answered from the process's "
    "memory; hit: from Redis; miss, stale, coalesced, error).",
    ["kind", "result"],
)
PROVIDER_LATENCY = Histogram(
    "tripsage_travel_provider_latency_seconds",
    "Time spent in one provider call, by provider, operation and outcome.",
    ["provider", "operation", "outcome"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


@cache
def cache_lookup(kind: str, result: str) -> Counter:
    """CACHE_LOOKUPS' child for one kind and result, resolved once (labels() costs more
    than the local cache hit it counts)."""
    return CACHE_LOOKUPS.labels(kind, result)
