"""Prometheus metrics for the gateway (one registry per app)."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest

UNMATCHED_ROUTE = "unmatched"
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class GatewayMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "tripsage_gateway_http_requests_total",
            "HTTP requests handled by the gateway.",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.request_latency = Histogram(
            "tripsage_gateway_http_request_duration_seconds",
            "HTTP request latency (for SSE streams: until the stream ends).",
            ("method", "route", "status"),
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.upstream_latency = Histogram(
            "tripsage_gateway_upstream_call_duration_seconds",
            "Latency of gRPC calls to upstream services.",
            ("grpc_method", "grpc_code"),
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        labels = (method, route, str(status))
        self.requests.labels(*labels).inc()
        self.request_latency.labels(*labels).observe(seconds)

    def observe_upstream(self, grpc_method: str, code: str, seconds: float) -> None:
        self.upstream_latency.labels(grpc_method, code).observe(seconds)

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
