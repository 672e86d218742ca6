"""Server interceptors: request id, one log line per call, domain errors to statuses,
requests no service can carry refused."""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

import grpc
from google.protobuf.message import Message
from grpc import aio

from tripsage_core.errors import DomainError, PermissionDenied, Unauthenticated
from tripsage_core.grpc_kit.metadata import metadata_value
from tripsage_core.grpc_kit.request_checks import check_request
from tripsage_core.grpc_kit.rpc_context import rpc_method_var
from tripsage_core.grpc_kit.status import to_grpc_status
from tripsage_core.idempotent_replay import REPLAYED_METADATA_KEY, replay_box_var
from tripsage_core.outages import is_outage
from tripsage_core.request_context import REQUEST_ID_HEADER, accept_request_id, request_id_var
from tripsage_core.security_events import DENIED, security_event

logger = logging.getLogger("tripsage.rpc")

UnaryBehavior = Callable[[Any, aio.ServicerContext[Any, Any]], Awaitable[Any]]
StreamBehavior = Callable[[Any, aio.ServicerContext[Any, Any]], Any]


async def iterate(result: Any) -> AsyncIterator[Any]:
    """A unary-stream behaviour is an async generator, or a coroutine writing via context."""
    if inspect.isasyncgen(result):
        async for item in result:
            yield item
    else:
        await result


if TYPE_CHECKING:
    _ServerInterceptor = aio.ServerInterceptor[Any, Any]
else:  # not subscriptable at run time
    _ServerInterceptor = aio.ServerInterceptor


class AroundInterceptor(_ServerInterceptor):
    """Wraps unary-unary and unary-stream handlers; client and bidi streams pass through."""

    async def unary(
        self,
        inner: UnaryBehavior,
        request: Any,
        context: aio.ServicerContext[Any, Any],
        method: str,
    ) -> Any:
        return await inner(request, context)

    async def stream(
        self,
        inner: StreamBehavior,
        request: Any,
        context: aio.ServicerContext[Any, Any],
        method: str,
    ) -> AsyncIterator[Any]:
        async for item in iterate(inner(request, context)):
            yield item

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any]]
        ],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any]:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        method = handler_call_details.method
        if handler.unary_unary is not None:
            inner_unary: UnaryBehavior = handler.unary_unary  # type: ignore[assignment]

            async def unary_unary(request: Any, context: aio.ServicerContext[Any, Any]) -> Any:
                return await self.unary(inner_unary, request, context, method)

            return handler._replace(unary_unary=unary_unary)  # type: ignore[attr-defined,no-any-return]
        if handler.unary_stream is not None:
            inner_stream: StreamBehavior = handler.unary_stream  # type: ignore[assignment]

            async def unary_stream(
                request: Any, context: aio.ServicerContext[Any, Any]
            ) -> AsyncIterator[Any]:
                async for item in self.stream(inner_stream, request, context, method):
                    yield item

            return handler._replace(unary_stream=unary_stream)  # type: ignore[attr-defined,no-any-return]
        return handler


class RequestIdInterceptor(AroundInterceptor):
    """Adopts the caller's x-request-id (or mints one) for this call's logs and onward calls."""

    async def unary(self, inner: Any, request: Any, context: Any, method: str) -> Any:
        request_id_var.set(accept_request_id(metadata_value(context, REQUEST_ID_HEADER)))
        rpc_method_var.set(method)
        return await inner(request, context)

    async def stream(
        self, inner: Any, request: Any, context: Any, method: str
    ) -> AsyncIterator[Any]:
        request_id_var.set(accept_request_id(metadata_value(context, REQUEST_ID_HEADER)))
        rpc_method_var.set(method)
        async for item in iterate(inner(request, context)):
            yield item


def code_name(context: Any) -> str:
    code = context.code()
    if code is None:
        return "OK"
    return code.name if isinstance(code, grpc.StatusCode) else str(code)


class TimedInterceptor(AroundInterceptor):
    """Around every call (a stream until it ends): `started(method)` before it, then
    `finished(...)` with whether it raised, for interceptors that observe calls."""

    def started(self, method: str) -> Any:
        return None

    def finished(self, state: Any, method: str, context: Any, started: float, failed: bool) -> None:
        raise NotImplementedError

    async def unary(self, inner: Any, request: Any, context: Any, method: str) -> Any:
        state = self.started(method)
        started, failed = time.perf_counter(), False
        try:
            return await inner(request, context)
        except BaseException:
            failed = True
            raise
        finally:
            self.finished(state, method, context, started, failed)

    async def stream(
        self, inner: Any, request: Any, context: Any, method: str
    ) -> AsyncIterator[Any]:
        state = self.started(method)
        started, failed = time.perf_counter(), False
        try:
            async for item in iterate(inner(request, context)):
                yield item
        except BaseException:
            failed = True
            raise
        finally:
            self.finished(state, method, context, started, failed)


class LoggingInterceptor(TimedInterceptor):
    """One line per call: method, status code, duration."""

    def finished(self, state: Any, method: str, context: Any, started: float, failed: bool) -> None:
        code = code_name(context)
        if failed and code == "OK":
            code = "UNKNOWN"
        elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
        if code in {"INTERNAL", "UNKNOWN", "DATA_LOSS"}:
            level = logging.ERROR
        elif method.startswith("/grpc."):  # health probes and reflection: frequent, dull
            level = logging.DEBUG
        else:
            level = logging.INFO
        logger.log(level, "rpc", extra={"method": method, "code": code, "duration_ms": elapsed_ms})


class ErrorInterceptor(AroundInterceptor):
    """Domain errors become their status with details; anything unexpected is INTERNAL, logged."""

    async def _abort(self, context: Any, exc: Exception, method: str) -> None:
        if isinstance(exc, DomainError):
            if isinstance(exc, PermissionDenied):
                security_event("permission_denied", DENIED, method=method, reason=exc.reason)
            elif isinstance(exc, Unauthenticated) and exc.reason != "TOKEN_MISSING":
                security_event("token_rejected", DENIED, method=method, reason=exc.reason)
            await context.abort_with_status(to_grpc_status(exc))
        if isinstance(exc, NotImplementedError):
            # The generated base servicer's answer for RPCs no issue has built yet.
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, f"{method} is not implemented yet")
        if is_outage(exc):
            logger.warning("dependency unavailable in %s: %r", method, exc)
            await context.abort(
                grpc.StatusCode.UNAVAILABLE, "a dependency is unavailable; retry later"
            )
        logger.exception("unhandled error in %s", method)
        await context.abort(
            grpc.StatusCode.INTERNAL, f"internal error (request id {request_id_var.get()})"
        )

    async def unary(self, inner: Any, request: Any, context: Any, method: str) -> Any:
        try:
            return await inner(request, context)
        except aio.AbortError:
            raise
        except Exception as exc:
            await self._abort(context, exc, method)

    async def stream(
        self, inner: Any, request: Any, context: Any, method: str
    ) -> AsyncIterator[Any]:
        try:
            async for item in iterate(inner(request, context)):
                yield item
        except aio.AbortError:
            raise
        except Exception as exc:
            await self._abort(context, exc, method)


class RequestCheckInterceptor(AroundInterceptor):
    """Refuses, naming the fields, what no service can carry (NUL, unknown enum numbers,
    non-finite numbers; see request_checks), so no servicer has to remember to."""

    async def unary(self, inner: Any, request: Any, context: Any, method: str) -> Any:
        if isinstance(request, Message):
            check_request(request)
        return await inner(request, context)

    async def stream(
        self, inner: Any, request: Any, context: Any, method: str
    ) -> AsyncIterator[Any]:
        if isinstance(request, Message):
            check_request(request)
        async for item in iterate(inner(request, context)):
            yield item


class IdempotencyReplayInterceptor(AroundInterceptor):
    """Tells the caller, in trailing metadata, that a create replayed an earlier attempt
    (tripsage_core.idempotent_replay.note_replayed), so no servicer has to."""

    async def unary(self, inner: Any, request: Any, context: Any, method: str) -> Any:
        box: list[bool] = []
        token = replay_box_var.set(box)
        try:
            reply = await inner(request, context)
        finally:
            replay_box_var.reset(token)
        if box:
            existing = tuple(getattr(context, "trailing_metadata", lambda: ())() or ())
            context.set_trailing_metadata((*existing, (REPLAYED_METADATA_KEY, "true")))
        return reply


def default_interceptors() -> list[aio.ServerInterceptor[Any, Any]]:
    # Outermost first: the request id is set before anything logs; request checks run
    # inside ErrorInterceptor so their InvalidArgument becomes a status like any other.
    return [
        RequestIdInterceptor(),
        LoggingInterceptor(),
        ErrorInterceptor(),
        RequestCheckInterceptor(),
        IdempotencyReplayInterceptor(),
    ]
