"""The transcoding endpoint: match a route, call the upstream, render the result."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import grpc
from google.protobuf.message import Message
from grpc import aio
from starlette.datastructures import URL
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway import conditional, creates, downloads, streaming
from gateway.asgi_headers import request_headers
from gateway.deadlines import Deadlines
from gateway.errors import (
    ErrorResponse,
    GatewayError,
    error_from_rpc,
    invalid_argument,
    status_from_trailers,
)
from gateway.metrics import GatewayMetrics
from gateway.render import json_bytes
from gateway.routes import HttpBinding, NoRoute, RouteTable
from gateway.transcode import build_request, message_class, response_to_json
from gateway.upstream import ChannelPool, outgoing_metadata

logger = logging.getLogger("tripsage.gateway")

ROUTE_SCOPE_KEY = "tripsage.gateway.route"
REQUEST_ID_SCOPE_KEY = "tripsage.gateway.request_id"
MAX_BODY_BYTES = 4 * 1024 * 1024  # the default of GATEWAY_MAX_BODY_BYTES
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


class Proxy:
    """REST/JSON -> gRPC for every binding in the route table."""

    def __init__(
        self,
        table: RouteTable,
        pool: ChannelPool,
        metrics: GatewayMetrics,
        *,
        deadlines: Deadlines,
        stream_heartbeat: float = 15.0,
        static_paths: Mapping[str, tuple[str, ...]],
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self.table = table
        self.pool = pool
        self.metrics = metrics
        self.deadlines = deadlines
        self.stream_heartbeat = stream_heartbeat
        self.static_paths = dict(static_paths)
        self.max_body_bytes = max_body_bytes
        self._unary_callables: dict[
            tuple[int, str], tuple[aio.Channel, aio.UnaryUnaryMultiCallable[Message, Message]]
        ] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """ASGI, so every HTTP method reaches it (405s are ours); straight on the scope,
        without Starlette's Request (gateway/app.py sends transcoded paths here first)."""
        request = _Request(scope, receive)
        response: ASGIApp
        try:
            response = await self._handle(request)
        except GatewayError as error:
            token_presented = bool(request.headers.get("authorization"))
            response = error_response(error.to_response(token_presented=token_presented))
        await response(scope, receive, send)

    async def _handle(self, request: _Request) -> ASGIApp:
        found = self.table.match(request.method, request.raw_path())
        if isinstance(found, NoRoute):
            raise self._no_route(request, found)
        binding = found.binding
        request.scope[ROUTE_SCOPE_KEY] = binding.template.source
        body = await request.body(self.max_body_bytes) if binding.body else b""
        message = build_request(binding, found.path_params, request.query(), body)
        etag_from_if_match = conditional.apply_if_match(binding, message, request.headers)
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
            binding.method.full_name, binding.server_streaming, request.headers
        )
        channel = self.pool.channel(address)
        token_presented = bool(request.headers.get("authorization"))
        call = _Upstream(
            binding,
            channel,
            message,
            metadata,
            token_presented,
            timeout,
            request=request,
            etag_from_if_match=etag_from_if_match,
        )
        if binding.server_streaming:
            return await self._stream(call, request.headers)
        return await self._unary(call)

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
        rpc = multicallable(call.message, metadata=call.metadata, timeout=call.timeout)
        try:
            reply = await rpc
        except aio.AioRpcError as error:
            self._observe(binding, error.code(), started)
            rendered = self._rpc_error_body(binding, error, call.token_presented)
            if call.etag_from_if_match and error.code() is grpc.StatusCode.ABORTED:
                rendered.http_status = 412  # the service's status and details, as HTTP has it
            return error_response(rendered)
        self._observe(binding, grpc.StatusCode.OK, started)
        return await self._reply(call, rpc, reply)

    async def _reply(
        self, call: _Upstream, rpc: aio.UnaryUnaryCall[Message, Message], reply: Message
    ) -> Response:
        """A unary reply as HTTP: a download as its file; else JSON with its ETag, 304 for
        a matching If-None-Match, 201 and Location for a new resource."""
        binding = call.binding
        headers: dict[str, str] = {}
        if downloads.is_download(binding):
            return downloads.download_response(reply, headers)
        request_headers = call.request.headers if call.request is not None else {}
        etag = conditional.reply_etag(binding, reply)
        tag = conditional.header_value(etag)
        if tag is not None:
            headers["ETag"] = tag
        if binding.http_method == "GET" and conditional.not_modified(request_headers, etag):
            return Response(status_code=304, headers=headers)
        status = 200
        if creates.is_create(binding) and not creates.replayed(await rpc.trailing_metadata()):
            status = 201
            if call.request is not None:
                where = creates.location(self.table, call.request.raw_path(), reply)
                if where is not None:
                    headers["Location"] = where
        body = json_bytes(response_to_json(binding, reply))
        return Response(body, status, headers=headers, media_type=JSON_MEDIA_TYPE)

    async def _stream(self, upstream: _Upstream, headers: Mapping[str, str]) -> ASGIApp:
        """SSE or NDJSON, heartbeats, Last-Event-ID and disconnects: gateway/streaming.py."""
        binding, token_presented = upstream.binding, upstream.token_presented
        streaming.resume_from_header(upstream.message, headers)
        multicallable = upstream.channel.unary_stream(binding.grpc_path, *upstream.codec())
        started = time.perf_counter()
        call = multicallable(upstream.message, metadata=upstream.metadata, timeout=upstream.timeout)
        try:
            messages, first = await streaming.open_stream(call)
        except aio.AioRpcError as error:
            self._observe(binding, error.code(), started)
            return self._rpc_error(binding, error, token_presented)
        return streaming.StreamResponse(
            call,
            messages,
            first,
            ndjson=streaming.wants_ndjson(headers),
            heartbeat_seconds=self.stream_heartbeat,
            render=lambda reply: response_to_json(binding, reply),
            render_error=lambda error: self._rpc_error_body(binding, error, token_presented),
            finished=lambda code: self._observe(binding, code, started),
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


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ was 1 % of a request
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
    # What conditional requests and creates read of the HTTP request.
    request: _Request | None = None
    etag_from_if_match: bool = False

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
        self.headers = request_headers(scope)

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

    async def body(self, limit: int = MAX_BODY_BYTES) -> bytes:
        declared = self.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise _too_large(limit)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnect()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _too_large(limit: int) -> GatewayError:
    return GatewayError(
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        f"request body is larger than {limit} bytes (GATEWAY_MAX_BODY_BYTES)",
        http_status=413,
    )
