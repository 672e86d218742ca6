"""Prometheus metrics every service exports: per-RPC counts, latency and in-flight calls
(observed by the kit's ServerKit interceptor through `method_metrics`), database pool
gauges read at scrape time, and the HTTP port serving prometheus_client's default
registry (one per process, `<SERVICE>_METRICS_PORT`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from prometheus_client import REGISTRY, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from tripsage_core.database import Database

logger = logging.getLogger("tripsage.metrics")

RPC_REQUESTS = Counter(
    "tripsage_rpc_requests_total",
    "Finished RPCs by gRPC service, method and status code.",
    ["grpc_service", "grpc_method", "grpc_code"],
)
RPC_DURATION = Histogram(
    "tripsage_rpc_duration_seconds",
    "RPC duration by gRPC service and method (a stream: until it ends).",
    ["grpc_service", "grpc_method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
RPC_IN_FLIGHT = Gauge(
    "tripsage_rpc_in_flight",
    "RPCs (streams included) started and not yet finished.",
    ["grpc_service", "grpc_method"],
)


@dataclass(slots=True)
class _MethodMetrics:
    """One method's label children, resolved once: labels() costs more than a cached read."""

    service: str
    method: str
    duration: Any
    in_flight: Any
    codes: dict[str, Any]

    def started(self) -> None:
        self.in_flight.inc()

    def finished(self, code: str, started: float) -> None:
        child = self.codes.get(code)
        if child is None:
            child = self.codes[code] = RPC_REQUESTS.labels(self.service, self.method, code)
        child.inc()
        self.duration.observe(time.perf_counter() - started)
        self.in_flight.dec()


_METHODS: dict[str, _MethodMetrics] = {}


def method_metrics(full_method: str) -> _MethodMetrics:
    """The metric children of one RPC ("/pkg.Service/Method"), made on first use."""
    found = _METHODS.get(full_method)
    if found is None:
        service, _, method = full_method.lstrip("/").rpartition("/")
        found = _METHODS[full_method] = _MethodMetrics(
            service,
            method,
            RPC_DURATION.labels(service, method),
            RPC_IN_FLIGHT.labels(service, method),
            {},
        )
    return found


class _PoolCollector(Collector):
    """Each service's asyncpg pool size, idle and in-use connections, read at scrape time."""

    def __init__(self) -> None:
        self.pools: dict[str, Database] = {}

    def collect(self) -> Iterator[GaugeMetricFamily]:
        size = GaugeMetricFamily(
            "tripsage_db_pool_size", "Open connections in the pool.", labels=["service"]
        )
        idle = GaugeMetricFamily(
            "tripsage_db_pool_idle", "Open connections not in use.", labels=["service"]
        )
        in_use = GaugeMetricFamily(
            "tripsage_db_pool_in_use", "Connections lent out.", labels=["service"]
        )
        maximum = GaugeMetricFamily(
            "tripsage_db_pool_max_size", "The pool's connection limit.", labels=["service"]
        )
        for service, database in list(self.pools.items()):
            use = database.pool_use()
            if use is None:  # not connected yet, or closed
                continue
            size.add_metric([service], use["size"])
            idle.add_metric([service], use["size"] - use["inUse"])
            in_use.add_metric([service], use["inUse"])
            maximum.add_metric([service], use["maxSize"])
        yield from (size, idle, in_use, maximum)


_POOLS = _PoolCollector()
REGISTRY.register(_POOLS)


def track_pool(service: str, database: Database | None) -> None:
    """Report this service's pool (the latest one registered under its name)."""
    if database is not None:
        _POOLS.pools[service] = database


_serving: set[int] = set()


def serve_metrics(port: int | None, host: str) -> None:
    """Serve the default registry on `port` (unset: off); once per port per process,
    since services run in one process in tests and share the registry."""
    if not port or port in _serving:
        return
    start_http_server(port, addr=host)
    _serving.add(port)
    logger.info("metrics on port %s", port)
