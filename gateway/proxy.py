"""The transcoding endpoint: match a route, call the upstream, render the result."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import grpc
from google.protobuf.message import Message
from grpc import aio
from starlette.datastructures import URL
from starlette.requests import ClientDisconnect
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from gateway.deadlines import Deadlines
from gateway.errors import (
    ErrorResponse,
    GatewayError,
    error_from_rpc,
    invalid_argument,
    status_from_trailers,
)
from gateway.metrics import GatewayMetrics
from gateway.routes import HttpBinding, NoRoute, RouteTable
from gateway.transcode import build_request, message_class, response_to_json
from gateway.upstream import ChannelPool, outgoing_metadata

logger = logging.getLogger("tripsage.gateway")

ROUTE_SCOPE_KEY = "tripsage.gateway.route"
REQUEST_ID_SCOPE_KEY = "tripsage.gateway.request_id"
MAX_BODY_BYTES = 4 * 1024 * 1024
JSON_MEDIA_TYPE = "application/json"

# Transport-level failure texts from grpc core; they name internal addresses,
# so the client gets a plain message instead.
_TRANSPORT_FAILURE = re.compile(
    r"failed to connect|connection refused|dns resolution failed|socket closed|"
    r"connections to all backends failing|connection reset|ipv[46]:|errors resolving|"
    r"lookup error|dns:",
    re.IGNORECASE,
)
# grpc core's own refusals of oversized metadata or messages (no google.rpc.Status
# attached). They name pseudo-headers and sizes; the client gets a plain message.
_METADATA_OVERFLOW = re.compile(r"metadata size exceeds|metadata.*too large", re.IGNORECASE)
_MESSAGE_OVERFLOW = re.compile(r"message larger than max", re.IGNORECASE)


def json_response(
    payload: Any, status_code: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    content = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(content, status_code, headers=dict(headers or {}), media_type=JSON_MEDIA_TYPE)


def error_response(error: ErrorResponse) -> Response:
    return Response(
        error.json_bytes(), error.http_status, headers=error.headers, media_type=JSON_MEDIA_TYPE
    )


def sse_event(payload: Any, event: str | None = None) -> bytes:
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    prefix = f"event: {event}\n" if event else ""
    return f"{prefix}data: {data}\n\n".encode()


class Proxy:
    """REST/JSON -> gRPC for every binding in the route table."""

    def __init__(
        self,
        table: RouteTable,
        pool: ChannelPool,
        metrics: GatewayMetrics,
        *,
        deadlines: Deadlines,
        static_paths: Mapping[str, tuple[str, ...]],
    ) -> None:
        self.table = table
        self.pool = pool
        self.metrics = metrics
        self.deadlines = deadlines
        self.static_paths = dict(static_paths)
        self._unary_callables: dict[
            tuple[int, str], tuple[aio.Channel, aio.UnaryUnaryMultiCallable[Message, Message]]
        ] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """ASGI, so every HTTP method reaches it (405s are ours); straight on the scope,
        without Starlette's Request (gateway/app.py sends transcoded paths here first)."""
        request = _Request(scope, receive)
        try:
            response = await self._handle(request)
        except GatewayError as error:
            token_presented = bool(request.headers.get("authorization"))
            response = error_response(error.to_response(token_presented=token_presented))
        await response(scope, receive, send)

    async def _handle(self, request: _Request) -> Response:
        found = self.table.match(request.method, request.raw_path())
        if isinstance(found, NoRoute):
            raise self._no_route(request, found)
        binding = found.binding
        request.scope[ROUTE_SCOPE_KEY] = binding.template.source
        body = await request.body() if binding.body else b""
        message = build_request(binding, found.path_params, request.query(), body)
        request_id = str(request.scope.get(REQUEST_ID_SCOPE_KEY, ""))
        client = request.scope.get("client")
        metadata = outgoing_metadata(request.headers, request_id, client[0] if client else None)
        address = self.pool.address_for(binding.service_name)
        if address is None:
            raise GatewayError(
                grpc.StatusCode.UNAVAILABLE,
                f"no upstream is configured for {binding.service_name}",
            )
        timeout = self.deadlines.timeout(
            binding.method.name, binding.server_streaming, request.headers
        )
        channel = self.pool.channel(address)
        token_presented = bool(request.headers.get("authorization"))
        call = _Upstream(binding, channel, message, metadata, token_presented, timeout)
        return await (self._stream(call) if binding.server_streaming else self._unary(call))

    def _unary_callable(self, call: _Upstream) -> aio.UnaryUnaryMultiCallable[Message, Message]:
        """One multicallable per channel and method, made on first use (making one per
        request cost about as much as rendering the reply)."""
        key = (id(call.channel), call.binding.grpc_path)
        found = self._unary_callables.get(key)
        if found is None or found[0] is not call.channel:
            made = call.channel.unary_unary(call.binding.grpc_path, *call.codec())
            found = self._unary_callables[key] = (call.channel, made)
        return found[1]

    def _no_route(self, request: _Request, found: NoRoute) -> GatewayError:
        path = request.path
        allowed = found.allowed or self.static_paths.get(path, ())
        if allowed:
            return GatewayError(
                grpc.StatusCode.UNIMPLEMENTED,
                f"method {request.method} is not allowed on {path}",
                http_status=405,
                headers={"Allow": ", ".join(allowed)},
            )
        return GatewayError(grpc.StatusCode.NOT_FOUND, f"no route for {path}")

    async def _unary(self, call: _Upstream) -> Response:
        binding = call.binding
        multicallable = self._unary_callable(call)
        started = time.perf_counter()
        try:
            reply = await multicallable(call.message, metadata=call.metadata, timeout=call.timeout)
        except aio.AioRpcError as error:
            self._observe(binding, error.code(), started)
            return self._rpc_error(binding, error, call.token_presented)
        self._observe(binding, grpc.StatusCode.OK, started)
        return json_response(response_to_json(binding, reply))

    async def _stream(self, upstream: _Upstream) -> Response:
        binding, token_presented = upstream.binding, upstream.token_presented
        multicallable = upstream.channel.unary_stream(binding.grpc_path, *upstream.codec())
        started = time.perf_counter()
        call = multicallable(upstream.message, metadata=upstream.metadata, timeout=upstream.timeout)
        messages = call.__aiter__()
        # Wait for the first message (or the failure) before answering, so an
        # upfront error (bad token, not found) is a real HTTP error status.
        first: Message | None
        try:
            first = await messages.__anext__()
        except StopAsyncIteration:
            first = None
        except aio.AioRpcError as error:
            self._observe(binding, error.code(), started)
            return self._rpc_error(binding, error, token_presented)

        async def events() -> AsyncIterator[bytes]:
            code = grpc.StatusCode.OK
            try:
                if first is not None:
                    yield sse_event(response_to_json(binding, first))
                    async for reply in messages:
                        yield sse_event(response_to_json(binding, reply))
            except aio.AioRpcError as error:
                code = error.code()
                rendered = self._rpc_error_body(binding, error, token_presented)
                yield sse_event(rendered.body(), event="error")
            except BaseException:
                code = grpc.StatusCode.CANCELLED
                raise
            finally:
                call.cancel()
                self._observe(binding, code, started)

        return StreamingResponse(
            events(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    def _rpc_error_body(
        self, binding: HttpBinding, error: aio.AioRpcError, token_presented: bool
    ) -> ErrorResponse:
        code = error.code()
        text = error.details() or ""
        trailers = error.trailing_metadata()
        if code is grpc.StatusCode.UNAVAILABLE and _TRANSPORT_FAILURE.search(text):
            logger.warning("upstream %s unreachable: %s", binding.service_name, text)
            text = f"{binding.method.containing_service.name} is unavailable"
        elif status_from_trailers(trailers) is None and _METADATA_OVERFLOW.search(text):
            # Headers or an error echoing the input grew past what gRPC carries:
            # the request's doing, so a 400, never grpc's RESOURCE_EXHAUSTED (429).
            logger.warning("call to %s refused by gRPC: %s", binding.service_name, text)
            return invalid_argument(
                "a value in the request is too large to pass on", reason="REQUEST_TOO_LARGE"
            ).to_response()
        elif status_from_trailers(trailers) is None and _MESSAGE_OVERFLOW.search(text):
            logger.error("reply of %s too large: %s", binding.grpc_path, text)
            return GatewayError(
                grpc.StatusCode.INTERNAL, "the reply is too large to return"
            ).to_response()
        return error_from_rpc(code, text, trailers, token_presented=token_presented)

    def _rpc_error(
        self, binding: HttpBinding, error: aio.AioRpcError, token_presented: bool
    ) -> Response:
        return error_response(self._rpc_error_body(binding, error, token_presented))

    def _observe(self, binding: HttpBinding, code: grpc.StatusCode, started: float) -> None:
        self.metrics.observe_upstream(binding.grpc_path, code.name, time.perf_counter() - started)


def _serialize(message: Message) -> bytes:
    return message.SerializeToString()


@dataclass(frozen=True, slots=True)
class _Upstream:
    """One call to pass on: the binding, the channel it goes over, what it sends and
    whether the client presented a token (which shapes how errors are rendered), and
    its timeout in seconds (gateway/deadlines.py)."""

    binding: HttpBinding
    channel: aio.Channel
    message: Message
    metadata: tuple[tuple[str, str], ...]
    token_presented: bool
    timeout: float

    def codec(self) -> tuple[Callable[[Message], bytes], Callable[[bytes], Message]]:
        """The request serializer and reply deserializer, as grpc's multicallables take them."""
        return _serialize, message_class(self.binding.method.output_type).FromString


class _Request:
    """What the proxy reads of an HTTP request, taken from the ASGI scope as
    Starlette's Request would give it (first value of a repeated header, the
    query as parse_qsl with blank values, ClientDisconnect on a dropped body)."""

    __slots__ = ("headers", "method", "receive", "scope")

    def __init__(self, scope: Scope, receive: Receive) -> None:
        self.scope = scope
        self.receive = receive
        self.method: str = scope["method"]
        headers: dict[str, str] = {}
        for name, value in scope["headers"]:
            headers.setdefault(name.lower().decode("latin-1"), value.decode("latin-1"))
        self.headers = headers

    @property
    def path(self) -> str:
        """Starlette's ``request.url.path`` (only errors need it: it echoes the path)."""
        return URL(scope=self.scope).path

    def raw_path(self) -> str:
        raw = self.scope.get("raw_path")
        if isinstance(raw, bytes) and raw:
            return raw.decode("latin-1").split("?", 1)[0]
        return self.path

    def query(self) -> list[tuple[str, str]]:
        return parse_qsl(
            self.scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True
        )

    async def body(self) -> bytes:
        declared = self.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            raise _too_large()
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnect()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise _too_large()
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _too_large() -> GatewayError:
    return GatewayError(
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        f"request body is larger than {MAX_BODY_BYTES} bytes",
        http_status=413,
    )
