"""Per-request context: request id, access log line, metrics, last-resort 500.

Every answer (errors, 404s, streams, the gateway's own endpoints) carries
``X-Request-ID``: the caller's when it is sane (tripsage_core/request_context.py:
1 to 128 of ``A-Za-z0-9._:-``), else a fresh one. The proxy passes it on as
``x-request-id`` metadata, and every service logs it with each line.

One access-log line per request on the ``tripsage.gateway.access`` logger, with
structured fields (``http_method``, ``route``, ``path``, ``status``,
``duration_ms``, ``consumer``, ``request_id``, ``bytes_sent``).
"""

from __future__ import annotations

import logging
import time

import grpc
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.asgi_headers import request_headers, set_header
from gateway.callers import GatewayCallers
from gateway.consumers import Consumer, consumer_of
from gateway.errors import GatewayError
from gateway.metrics import UNMATCHED_ROUTE, GatewayMetrics
from gateway.proxy import REQUEST_ID_SCOPE_KEY, ROUTE_SCOPE_KEY
from tripsage_core.request_context import REQUEST_ID_HEADER, accept_request_id, request_id_var

logger = logging.getLogger("tripsage.gateway")
access_logger = logging.getLogger("tripsage.gateway.access")
_REQUEST_ID_FIELD = REQUEST_ID_HEADER.lower()
_REQUEST_ID_NAME = _REQUEST_ID_FIELD.encode("latin-1")


class RequestContextMiddleware:
    """Pure ASGI so SSE streams pass through untouched."""

    def __init__(
        self, app: ASGIApp, metrics: GatewayMetrics, callers: GatewayCallers | None = None
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.callers = callers if callers is not None else GatewayCallers()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = accept_request_id(request_headers(scope).get(_REQUEST_ID_FIELD))
        scope[REQUEST_ID_SCOPE_KEY] = request_id
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        response_started = False
        bytes_sent = 0
        self.metrics.in_flight.inc()

        async def send_with_request_id(message: Message) -> None:
            nonlocal status, response_started, bytes_sent
            if message["type"] == "http.response.start":
                status = int(message["status"])
                response_started = True
                set_header(message, _REQUEST_ID_NAME, request_id.encode("latin-1"))
            elif message["type"] == "http.response.body":
                bytes_sent += len(message.get("body", b""))
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
            await send_with_request_id({"type": "http.response.body", "body": error.json_bytes()})
        finally:
            self.metrics.in_flight.dec()
            elapsed = time.perf_counter() - started
            route = str(scope.get(ROUTE_SCOPE_KEY) or UNMATCHED_ROUTE)
            method = str(scope.get("method", ""))
            consumer = self._consumer(scope)
            self.metrics.observe_request(method, route, status, elapsed, consumer, bytes_sent)
            access_logger.info(
                "%s %s %d %.1fms %s %dB",
                method,
                route,
                status,
                elapsed * 1000,
                consumer,
                bytes_sent,
                extra={
                    "http_method": method,
                    "route": route,
                    "path": scope.get("path", ""),
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                    "consumer": consumer,
                    "request_id": request_id,
                    "bytes_sent": bytes_sent,
                },
            )
            request_id_var.reset(token)

    def _consumer(self, scope: Scope) -> str:
        """The consumer type (decided once per request, gateway/consumers.py); a
        failure to tell never costs the log line."""
        try:
            return consumer_of(scope, self.callers).value
        except Exception:
            logger.exception("could not tell the consumer type")
            return Consumer.ANONYMOUS.value
