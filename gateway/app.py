"""create_app: the composition root of the REST/JSON gateway."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import grpc
from google.protobuf.descriptor import ServiceDescriptor
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.api_docs import DOCS_PATH, STYLESHEET_PATH, ApiReference
from gateway.cache_control import NoStoreForCredentialsMiddleware
from gateway.callers import GatewayCallers
from gateway.cors import cors_middleware
from gateway.deadlines import Deadlines
from gateway.discovery import discover_services
from gateway.errors import GatewayError
from gateway.health import HEALTH_TIMEOUT_SECONDS, HealthChecker
from gateway.metrics import GatewayMetrics
from gateway.middleware import RequestContextMiddleware
from gateway.openapi import build_openapi
from gateway.proxy import MAX_BODY_BYTES, ROUTE_SCOPE_KEY, Proxy, error_response, json_response
from gateway.rate_limit import RateLimiter, RateLimitMiddleware
from gateway.routes import RouteTable
from gateway.security_headers import SecurityHeadersMiddleware
from gateway.upstream import FORWARDED_HEADERS, ChannelPool
from tripsage_core.service_credentials import ServiceCredentials

logger = logging.getLogger("tripsage.gateway")

HEALTH_PATH = "/api/health"
HEALTH_DETAILED_PATH = "/api/health/detailed"
HEALTH_COMPONENTS_PATH = "/api/health/components"
OPENAPI_PATH = "/api/openapi.json"
METRICS_PATH = "/metrics"

Endpoint = Callable[[Request], Awaitable[Response]]
_CODE_FOR_HTTP = {404: grpc.StatusCode.NOT_FOUND, 405: grpc.StatusCode.UNIMPLEMENTED}


def create_app(
    upstreams: Mapping[str, str],
    *,
    cors_origins: Sequence[str] = (),
    cors_credentials: bool = False,
    call_timeout: float = 30.0,
    long_call_timeout: float = 120.0,
    stream_timeout: float = 300.0,
    stream_heartbeat: float = 15.0,
    health_timeout: float = HEALTH_TIMEOUT_SECONDS,
    services: Sequence[ServiceDescriptor] | None = None,
    rate_limiter: RateLimiter | None = None,
    callers: GatewayCallers | None = None,
    channel_credentials: grpc.ChannelCredentials | None = None,
    max_body_bytes: int = MAX_BODY_BYTES,
    service_credentials: ServiceCredentials | None = None,
) -> Starlette:
    """The gateway app.

    ``upstreams`` maps a gRPC service full name to ``host:port``. ``services``
    defaults to every service found in the generated ``tripsage.*.v1`` code;
    tests may pass their own descriptors. ``rate_limiter`` (Redis-backed)
    limits each caller's requests per minute. ``callers`` verifies credentials
    for the gateway's own decisions (rate-limit buckets, internal endpoints);
    without it every request counts as anonymous. ``channel_credentials``:
    TLS to the upstreams (and their health checks). ``max_body_bytes``: the largest
    request body read (GATEWAY_MAX_BODY_BYTES), 413 past it. The timeouts are the
    deadlines of unary calls, of chat, plan and search calls, and of whole streams
    (gateway/deadlines.py); a client's grpc-timeout or Request-Timeout may shorten them.
    ``service_credentials``: the gateway's own credential, with which the detailed health
    asks each service for its figures (Diagnostics/Describe).
    """
    callers = callers if callers is not None else GatewayCallers()
    found = list(services) if services is not None else discover_services()
    table = RouteTable.from_services(found)
    logger.info(
        "gateway routes: %d bindings over %d services", len(table.bindings), len(table.services)
    )
    pool = ChannelPool(upstreams, channel_credentials)
    metrics = GatewayMetrics()
    health = HealthChecker(
        pool,
        timeout=health_timeout,
        rate_limiter=rate_limiter,
        service_token=(
            (lambda: service_credentials.issue("gateway")) if service_credentials else None
        ),
    )
    openapi_document: dict[str, Any] = {}

    async def health_summary(request: Request) -> Response:
        healthy, body = await health.summary()
        return json_response(body, 200 if healthy else 503)

    async def health_detailed(request: Request) -> Response:
        healthy, body = await health.detailed()
        return json_response(body, 200 if healthy else 503)

    def document() -> dict[str, Any]:
        if not openapi_document:
            openapi_document.update(build_openapi(table))
        return openapi_document

    async def openapi(request: Request) -> Response:
        return json_response(document())

    reference = ApiReference(document)

    async def prometheus(request: Request) -> Response:
        payload, content_type = metrics.render()
        return Response(payload, media_type=content_type)

    def operators_only(endpoint: Endpoint) -> Endpoint:
        """Internal addresses and traffic are for operators; others see no such path."""

        async def guarded(request: Request) -> Response:
            if not callers.is_operator(request.headers):
                error = GatewayError(grpc.StatusCode.NOT_FOUND, f"no route for {request.url.path}")
                return error_response(error.to_response())
            return await endpoint(request)

        guarded.__name__ = endpoint.__name__
        return guarded

    static: dict[str, Endpoint] = {
        HEALTH_PATH: health_summary,
        HEALTH_DETAILED_PATH: operators_only(health_detailed),
        HEALTH_COMPONENTS_PATH: operators_only(health_detailed),
        OPENAPI_PATH: openapi,
        DOCS_PATH: reference.page,
        STYLESHEET_PATH: reference.stylesheet,
        METRICS_PATH: operators_only(prometheus),
    }
    proxy = Proxy(
        table,
        pool,
        metrics,
        deadlines=Deadlines(call_timeout, long_call_timeout, stream_timeout),
        stream_heartbeat=stream_heartbeat,
        static_paths={path: ("GET",) for path in static},
        max_body_bytes=max_body_bytes,
    )
    routes = [
        Route(path, _labelled(path, endpoint), methods=["GET"]) for path, endpoint in static.items()
    ]
    routes.append(Route("/{path:path}", proxy))  # ASGI: every method reaches the proxy

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        pool.open_all()
        try:
            yield
        finally:
            await pool.close()

    # Outermost first: every answer (a 429 or a CORS refusal too) gets the security
    # headers, and the CORS fields, so a browser can read a refusal.
    middleware = [
        Middleware(SecurityHeadersMiddleware),
        cors_middleware(cors_origins, cors_credentials, FORWARDED_HEADERS),
    ]
    middleware.append(Middleware(RequestContextMiddleware, metrics=metrics, callers=callers))
    middleware.append(Middleware(NoStoreForCredentialsMiddleware))
    if rate_limiter is not None:
        middleware.append(
            Middleware(
                RateLimitMiddleware,
                limiter=rate_limiter,
                callers=callers,
                table=table,
                metrics=metrics,
            )
        )
    # Transcoded paths skip Starlette's error, exception and routing layers (the
    # proxy answers every error itself): the same middleware, straight to the proxy.
    lean: ASGIApp = proxy
    for each in reversed(middleware):
        lean = each.cls(lean, *each.args, **each.kwargs)
    app = _Gateway(
        lean,
        frozenset(static),
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={HTTPException: _http_exception},
    )
    app.state.route_table = table
    app.state.metrics = metrics
    app.state.channels = pool
    return app


class _Gateway(Starlette):
    """Starlette for the gateway's own endpoints and lifespan; every other HTTP path
    goes to the lean chain (the catch-all route below would send it to the proxy too)."""

    def __init__(self, lean: ASGIApp, own_paths: frozenset[str], **options: Any) -> None:
        super().__init__(**options)
        self._lean = lean
        self._own_paths = own_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] not in self._own_paths:
            scope["app"] = self
            await self._lean(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


async def _http_exception(request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405 (e.g. a path the catch-all cannot match) as JSON."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    code = _CODE_FOR_HTTP.get(status, grpc.StatusCode.INTERNAL if status >= 500 else None)
    error = GatewayError(
        code or grpc.StatusCode.INVALID_ARGUMENT,
        str(getattr(exc, "detail", "")) or "request failed",
        http_status=status,
        headers=getattr(exc, "headers", None),
    )
    return error_response(error.to_response())


def _labelled(path: str, endpoint: Endpoint) -> Endpoint:
    """Tag the request with its route template for metrics and logs."""

    async def labelled(request: Request) -> Response:
        request.scope[ROUTE_SCOPE_KEY] = path
        return await endpoint(request)

    labelled.__name__ = endpoint.__name__
    return labelled
