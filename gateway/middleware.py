"""Per-request context: request id, access log line, metrics, last-resort 500."""

from __future__ import annotations

import logging
import time

import grpc
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.errors import GatewayError
from gateway.metrics import UNMATCHED_ROUTE, GatewayMetrics
from gateway.proxy import REQUEST_ID_SCOPE_KEY, ROUTE_SCOPE_KEY
from tripsage_core.request_context import REQUEST_ID_HEADER, accept_request_id, request_id_var

logger = logging.getLogger("tripsage.gateway")


class RequestContextMiddleware:
    """Pure ASGI so SSE streams pass through untouched."""

    def __init__(self, app: ASGIApp, metrics: GatewayMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = accept_request_id(Headers(scope=scope).get(REQUEST_ID_HEADER))
        scope[REQUEST_ID_SCOPE_KEY] = request_id
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_request_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = int(message["status"])
                response_started = True
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_request_id)
        except Exception:
            logger.exception("unhandled error in gateway")
            if response_started:
                raise
            error = GatewayError(grpc.StatusCode.INTERNAL, "internal error").to_response()
            await send_with_request_id(
                {
                    "type": "http.response.start",
                    "status": error.http_status,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": error.json_bytes()})
        finally:
            elapsed = time.perf_counter() - started
            route = str(scope.get(ROUTE_SCOPE_KEY) or UNMATCHED_ROUTE)
            method = str(scope.get("method", ""))
            self.metrics.observe_request(method, route, status, elapsed)
            logger.info(
                "%s %s %d %.1fms",
                method,
                route,
                status,
                elapsed * 1000,
                extra={
                    "http_method": method,
                    "route": route,
                    "path": scope.get("path", ""),
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )
            request_id_var.reset(token)
