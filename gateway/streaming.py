"""Server-streaming RPCs over HTTP: Server-Sent Events, or newline-delimited JSON.

- Framing: SSE (``text/event-stream``) by default, one ``data:`` event per message,
  with an ``id:`` line when the message has a non-empty ``event_id`` field; NDJSON
  (``application/x-ndjson``) when the client's Accept asks for it, one JSON object per
  line. A failure after the stream started is an SSE ``event: error`` (or an NDJSON
  ``{"error": ...}`` line) carrying the same error body as a unary answer.
- Heartbeats: an idle stream sends ``: heartbeat`` (an SSE comment; for NDJSON a blank
  line) every GATEWAY_STREAM_HEARTBEAT_SECONDS, so proxies keep the connection open.
- Resumption: where the request message has a ``last_event_id`` field, the
  ``Last-Event-ID`` header (what a browser's EventSource sends on reconnecting) fills
  it, unless the query's ``lastEventId`` already did.
- Disconnects: the client's ``http.disconnect`` is watched while the stream runs, so
  the gRPC call is cancelled at once, not at the next write.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import grpc
from google.protobuf.message import Message
from grpc import aio
from starlette.types import Receive, Scope, Send

from gateway.errors import ErrorResponse, invalid_argument

logger = logging.getLogger("tripsage.gateway")

SSE_MEDIA_TYPE = "text/event-stream"
NDJSON_MEDIA_TYPE = "application/x-ndjson"
EVENT_ID_FIELD = "event_id"
LAST_EVENT_ID_FIELD = "last_event_id"
LAST_EVENT_ID_HEADER = "last-event-id"
MAX_EVENT_ID_LENGTH = 128
# Messages read ahead of a slow client before the gRPC read waits (flow control).
_READ_AHEAD = 16

Render = Callable[[Message], Any]
RenderError = Callable[[aio.AioRpcError], ErrorResponse]
Finished = Callable[[grpc.StatusCode], None]


def wants_ndjson(headers: Mapping[str, str]) -> bool:
    accept = headers.get("accept", "")
    return any(
        part.split(";", 1)[0].strip().lower() == NDJSON_MEDIA_TYPE for part in accept.split(",")
    )


def resume_from_header(message: Message, headers: Mapping[str, str]) -> None:
    """Copies Last-Event-ID into the request's last_event_id where the RPC can resume."""
    field = message.DESCRIPTOR.fields_by_name.get(LAST_EVENT_ID_FIELD)
    value = headers.get(LAST_EVENT_ID_HEADER)
    if field is None or value is None or getattr(message, LAST_EVENT_ID_FIELD):
        return
    value = value.strip()
    if len(value) > MAX_EVENT_ID_LENGTH or not value.isprintable():
        raise invalid_argument(
            "Last-Event-ID is not an event id",
            [("Last-Event-ID", f"must be at most {MAX_EVENT_ID_LENGTH} printable characters")],
        )
    setattr(message, LAST_EVENT_ID_FIELD, value)


def _event_id(reply: Message) -> str:
    if EVENT_ID_FIELD not in reply.DESCRIPTOR.fields_by_name:
        return ""
    value = str(getattr(reply, EVENT_ID_FIELD))
    # A line break would end the id line early; such an id is not passed on.
    return "" if any(c in value for c in "\r\n\0") else value


def _json(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


class _Framing:
    def __init__(self, ndjson: bool) -> None:
        self.ndjson = ndjson
        self.media_type = NDJSON_MEDIA_TYPE if ndjson else SSE_MEDIA_TYPE
        self.heartbeat = b"\n" if ndjson else b": heartbeat\n\n"

    def message(self, payload: Any, event_id: str) -> bytes:
        if self.ndjson:
            return (_json(payload) + "\n").encode()
        prefix = f"id: {event_id}\n" if event_id else ""
        return f"{prefix}data: {_json(payload)}\n\n".encode()

    def error(self, body: dict[str, Any]) -> bytes:
        if self.ndjson:
            return (_json(body) + "\n").encode()
        return f"event: error\ndata: {_json(body)}\n\n".encode()


class StreamResponse:
    """The ASGI answer of one open server stream: relays it until it ends or the client
    leaves, and cancels the call either way."""

    def __init__(
        self,
        call: aio.UnaryStreamCall[Message, Message],
        messages: AsyncIterator[Message],
        first: list[Message],
        *,
        ndjson: bool,
        heartbeat_seconds: float,
        render: Render,
        render_error: RenderError,
        finished: Finished,
    ) -> None:
        self.call = call
        self.messages = messages
        self.first = first
        self.framing = _Framing(ndjson)
        self.heartbeat_seconds = heartbeat_seconds
        self.render = render
        self.render_error = render_error
        self.finished = finished

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        framing = self.framing
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue(maxsize=_READ_AHEAD)
        code = grpc.StatusCode.CANCELLED

        async def read() -> None:
            try:
                for reply in self.first:
                    await queue.put(("message", reply))
                async for reply in self.messages:
                    await queue.put(("message", reply))
                await queue.put(("end", grpc.StatusCode.OK))
            except aio.AioRpcError as error:
                await queue.put(("error", error))

        async def write() -> grpc.StatusCode:
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        (b"content-type", framing.media_type.encode()),
                        (b"cache-control", b"no-cache"),
                        (b"x-accel-buffering", b"no"),
                    ],
                }
            )
            while True:
                try:
                    async with asyncio.timeout(self.heartbeat_seconds):
                        kind, value = await queue.get()
                except TimeoutError:
                    await _body(send, framing.heartbeat)
                    continue
                if kind == "message":
                    await _body(send, framing.message(self.render(value), _event_id(value)))
                    continue
                if kind == "error":
                    await _body(send, framing.error(self.render_error(value).body()))
                    await send({"type": "http.response.body", "body": b""})
                    return value.code()  # type: ignore[no-any-return]
                await send({"type": "http.response.body", "body": b""})
                return value  # type: ignore[no-any-return]

        async def disconnected() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass

        reader = asyncio.create_task(read())
        writer = asyncio.create_task(write())
        watcher = asyncio.create_task(disconnected())
        try:
            await asyncio.wait((writer, watcher), return_when=asyncio.FIRST_COMPLETED)
            if writer.done() and not writer.cancelled():
                failure = writer.exception()
                if failure is None:
                    code = writer.result()
                elif not isinstance(failure, OSError):  # OSError: the client went away
                    code = grpc.StatusCode.INTERNAL
                    logger.error("stream relay failed", exc_info=failure)
        finally:
            self.call.cancel()
            for task in (reader, writer, watcher):
                task.cancel()
            for task in (reader, writer, watcher):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            self.finished(code)


async def _body(send: Send, chunk: bytes) -> None:
    await send({"type": "http.response.body", "body": chunk, "more_body": True})


async def open_stream(
    call: aio.UnaryStreamCall[Message, Message],
) -> tuple[AsyncIterator[Message], list[Message]]:
    """Waits until the stream is accepted (its headers arrive, with or before the first
    message) or fails, so an upfront failure (bad token, not found) is still a real HTTP
    error status: raises it. Returns the stream and the messages already read."""
    messages = call.__aiter__()
    await call.initial_metadata()
    if not call.done():
        return messages, []
    # Already finished (an upfront error, or a short stream): an error before any
    # message is the answer's status; otherwise the stream is relayed as it went.
    try:
        return messages, [await messages.__anext__()]
    except StopAsyncIteration:
        return messages, []
