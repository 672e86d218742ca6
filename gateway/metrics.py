"""Prometheus metrics for the gateway (one registry per app, served at /metrics).

HTTP answers by method, route template (never the raw path: ids would make a
series each), status and consumer type (gateway/consumers.py); errors (status
400 and up) the same way; requests in flight; upstream gRPC call latency by
service, method and gRPC code; rate-limit refusals by consumer type and policy.
With GATEWAY_WORKERS above 1 each process counts its own.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest

from gateway.discovery import short_service_name

UNMATCHED_ROUTE = "unmatched"
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_HTTP_LABELS = ("method", "route", "status", "consumer")


class GatewayMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "tripsage_gateway_http_requests_total",
            "HTTP requests handled by the gateway.",
            _HTTP_LABELS,
            registry=self.registry,
        )
        self.errors = Counter(
            "tripsage_gateway_http_errors_total",
            "HTTP requests answered with a status of 400 or more.",
            _HTTP_LABELS,
            registry=self.registry,
        )
        self.request_latency = Histogram(
            "tripsage_gateway_http_request_duration_seconds",
            "HTTP request latency (for SSE streams: until the stream ends).",
            _HTTP_LABELS,
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.response_bytes = Counter(
            "tripsage_gateway_http_response_bytes_total",
            "Bytes of HTTP response bodies sent.",
            ("route",),
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "tripsage_gateway_http_requests_in_flight",
            "HTTP requests being handled now (open streams included).",
            registry=self.registry,
        )
        self.upstream_latency = Histogram(
            "tripsage_gateway_upstream_call_duration_seconds",
            "Latency of gRPC calls to upstream services (streams: until they end).",
            ("service", "grpc_method", "grpc_code"),
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.rate_limit_refusals = Counter(
            "tripsage_gateway_rate_limit_refusals_total",
            "Requests refused with 429 by consumer type and the policy (bucket) that refused.",
            ("consumer", "policy"),
            registry=self.registry,
        )
        # The labelled children of a series, looked up once (prometheus_client's
        # labels() checks and locks on every call; a few percent of a request).
        self._http: dict[tuple[str, str, int, str], _HttpSeries] = {}
        self._bytes: dict[str, Any] = {}
        self._upstream: dict[tuple[str, str], Any] = {}

    def observe_request(
        self,
        method: str,
        route: str,
        status: int,
        seconds: float,
        consumer: str = "anonymous",
        body_bytes: int = 0,
    ) -> None:
        key = (method, route, status, consumer)
        series = self._http.get(key)
        if series is None:
            labels = (method, route, str(status), consumer)
            series = self._http[key] = _HttpSeries(
                self.requests.labels(*labels),
                self.errors.labels(*labels) if status >= 400 else None,
                self.request_latency.labels(*labels),
            )
        series.requests.inc()
        if series.errors is not None:
            series.errors.inc()
        series.latency.observe(seconds)
        if body_bytes:
            counter = self._bytes.get(route)
            if counter is None:
                counter = self._bytes[route] = self.response_bytes.labels(route)
            counter.inc(body_bytes)

    def observe_upstream(self, grpc_method: str, code: str, seconds: float) -> None:
        """``grpc_method`` is the call's path, ``/tripsage.trips.v1.TripService/GetTrip``
        (service ``trips``)."""
        key = (grpc_method, code)
        histogram = self._upstream.get(key)
        if histogram is None:
            service = short_service_name(grpc_method.strip("/").split("/", 1)[0])
            histogram = self._upstream[key] = self.upstream_latency.labels(
                service, grpc_method, code
            )
        histogram.observe(seconds)

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class _HttpSeries(NamedTuple):
    requests: Any
    errors: Any  # None below status 400
    latency: Any
