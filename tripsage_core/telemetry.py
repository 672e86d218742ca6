"""Distributed tracing with OpenTelemetry, exported over OTLP/HTTP when configured.

Off unless OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT is
set (and OTEL_TRACES_EXPORTER=none turns it off even then). When on, every gRPC
call served or made, every asyncpg query, every Redis command, every httpx
request (provider calls) and the assistant's model and tool calls become spans,
and the W3C `traceparent` travels in gRPC metadata, so one trace follows a request from the gateway
through every service. Health probes and reflection are not traced.

OpenTelemetry is imported only when tracing is on: its SDK, exporter and
instrumentations are about 10 MB of every process's memory otherwise.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING
from urllib.parse import unquote

from tripsage_core.config import Settings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

logger = logging.getLogger("tripsage.telemetry")

_UNTRACED_SERVICES = ("grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection")
_provider: TracerProvider | None = None


def traces_endpoint(settings: Settings) -> str | None:
    if settings.otel_traces_exporter == "none":
        return None
    if settings.otel_exporter_otlp_traces_endpoint:
        return settings.otel_exporter_otlp_traces_endpoint
    if settings.otel_exporter_otlp_endpoint:
        return settings.otel_exporter_otlp_endpoint.rstrip("/") + "/v1/traces"
    return None


def _headers(raw: str) -> dict[str, str]:
    """OTEL_EXPORTER_OTLP_HEADERS: "key=value,key2=value2", values URL-encoded."""
    pairs = (item.split("=", 1) for item in raw.split(",") if "=" in item)
    return {key.strip(): unquote(value.strip()) for key, value in pairs}


def configure_telemetry(service: str, settings: Settings) -> bool:
    """Install tracing for this process; True when spans will be exported."""
    global _provider
    endpoint = traces_endpoint(settings)
    if endpoint is None or _provider is not None:
        return _provider is not None
    protocol = (settings.otel_exporter_otlp_protocol or "http/protobuf").lower()
    if protocol != "http/protobuf":
        logger.warning(
            "OTEL_EXPORTER_OTLP_PROTOCOL=%s is not supported; tracing is off "
            "(use http/protobuf, the collector's port 4318)",
            protocol,
        )
        return False
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.instrumentation.grpc import (
        GrpcAioInstrumentorClient,
        GrpcAioInstrumentorServer,
        filters,
    )
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    raw_headers = settings.otel_exporter_otlp_headers
    exporter = OTLPSpanExporter(
        endpoint=endpoint,
        headers=_headers(raw_headers.get_secret_value()) if raw_headers else None,
    )
    name = settings.otel_service_name or f"tripsage-{service}"
    _provider = TracerProvider(resource=Resource.create({"service.name": name}))
    _provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(_provider)
    untraced = filters.negate(
        filters.any_of(*(filters.service_name(name) for name in _UNTRACED_SERVICES))
    )
    # The instrumentation packages ship without type hints.
    GrpcAioInstrumentorServer(filter_=untraced).instrument()  # type: ignore[no-untyped-call]
    GrpcAioInstrumentorClient(filter_=untraced).instrument()  # type: ignore[no-untyped-call]
    AsyncPGInstrumentor().instrument()  # type: ignore[no-untyped-call]
    HTTPXClientInstrumentor().instrument()
    RedisInstrumentor().instrument()
    logger.info("tracing to %s as %s", endpoint, name)
    return True


def _ignore(key: str, value: str) -> None:
    return None


@contextlib.contextmanager
def span(name: str, **attributes: str) -> Iterator[Callable[[str, str], None]]:
    """A span of our own around what runs inside (an error marks it failed); yields a
    setter for attributes known only at the end. With tracing off it costs a check."""
    if _provider is None:
        yield _ignore
        return
    from opentelemetry import trace

    tracer = trace.get_tracer("tripsage")
    with tracer.start_as_current_span(name, attributes=attributes) as current:
        yield current.set_attribute


@contextlib.contextmanager
def untraced() -> Iterator[None]:
    """No spans for what runs inside (readiness pings would flood traces with noise)."""
    if _provider is None:
        yield
        return
    from opentelemetry.instrumentation.utils import suppress_instrumentation

    with suppress_instrumentation():
        yield


def shutdown_telemetry() -> None:
    """Export what is still buffered; call on the way out."""
    if _provider is not None:
        _provider.shutdown()
