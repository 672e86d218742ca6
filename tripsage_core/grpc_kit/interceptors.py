"""The kit's server interceptor: around every unary call and server stream, in one
coroutine frame, the RPC metrics, the request id, one log line, domain errors to
statuses, request checks, the idempotent-replay trailer and the access policy.

Six interceptors used to do this, one layer each: every call paid six
`intercept_service` coroutines and closures, and every resumption of the handler
(each database round trip) went back through a dozen frames. `ServerKit` wraps each
method's handler once, the first time the method is called, with what it needs
precomputed (metric children, policy, log level); the behaviours are the functions
below, so each has one home.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

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
        return wrap_handler(
            handler,
            lambda inner, request, context: self.unary(inner, request, context, method),
            lambda inner, request, context: self.stream(inner, request, context, method),
        )


def wrap_handler(
    handler: grpc.RpcMethodHandler[Any, Any],
    around_unary: Callable[[UnaryBehavior, Any, Any], Awaitable[Any]],
    around_stream: Callable[[StreamBehavior, Any, Any], AsyncIterator[Any]],
) -> grpc.RpcMethodHandler[Any, Any]:
    """`handler` with its unary or server-streaming behaviour run inside `around_unary` /
    `around_stream` (each given the inner behaviour, the request and the context); other
    kinds of handler unchanged (the suite has no client-streaming RPCs)."""
    if handler.unary_unary is not None:
        inner_unary: UnaryBehavior = handler.unary_unary  # type: ignore[assignment]

        async def unary_unary(request: Any, context: aio.ServicerContext[Any, Any]) -> Any:
            return await around_unary(inner_unary, request, context)

        return handler._replace(unary_unary=unary_unary)  # type: ignore[attr-defined,no-any-return]
    if handler.unary_stream is not None:
        inner_stream: StreamBehavior = handler.unary_stream  # type: ignore[assignment]

        async def unary_stream(
            request: Any, context: aio.ServicerContext[Any, Any]
        ) -> AsyncIterator[Any]:
            # An async generator function: grpc.aio tells stream handlers apart by kind.
            async for item in around_stream(inner_stream, request, context):
                yield item

        return handler._replace(unary_stream=unary_stream)  # type: ignore[attr-defined,no-any-return]
    return handler


def code_name(context: Any) -> str:
    code = context.code()
    if code is None:
        return "OK"
    return code.name if isinstance(code, grpc.StatusCode) else str(code)


def final_code(context: Any, failed: bool) -> str:
    """The call's status code name; a call that raised without setting one is UNKNOWN."""
    code = code_name(context)
    return "UNKNOWN" if failed and code == "OK" else code


_ERROR_CODES = frozenset({"INTERNAL", "UNKNOWN", "DATA_LOSS"})


def log_level(method: str, code: str) -> int:
    if code in _ERROR_CODES:
        return logging.ERROR
    if method.startswith("/grpc."):  # health probes and reflection: frequent, dull
        return logging.DEBUG
    return logging.INFO


def log_call(method: str, code: str, started: float) -> None:
    """The one line per call that docs/operations.md promises: method, code, duration_ms
    (and the request id, from the context filter). Built with makeRecord and handed to
    the handlers directly: Logger.log would walk the stack for the caller's file and
    line (findCaller), which no format of ours prints."""
    level = log_level(method, code)
    if not logger.isEnabledFor(level):
        return
    extra = {"method": method, "code": code, "duration_ms": elapsed_ms(started)}
    logger.handle(logger.makeRecord(logger.name, level, __file__, 0, "rpc", (), None, None, extra))


def elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


async def abort_for(context: Any, exc: Exception, method: str) -> None:
    """Domain errors become their status with details; a database or Redis outage is
    UNAVAILABLE (tripsage_core.outages); anything else unexpected is INTERNAL, logged with
    its stack. Always raises (AbortError)."""
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
        await context.abort(grpc.StatusCode.UNAVAILABLE, "a dependency is unavailable; retry later")
    logger.exception("unhandled error in %s", method)
    await context.abort(
        grpc.StatusCode.INTERNAL, f"internal error (request id {request_id_var.get()})"
    )


def send_replayed(context: Any) -> None:
    """Tells the caller, in trailing metadata, that a create replayed an earlier attempt
    (tripsage_core.idempotent_replay.note_replayed), so no servicer has to."""
    existing = tuple(getattr(context, "trailing_metadata", lambda: ())() or ())
    context.set_trailing_metadata((*existing, (REPLAYED_METADATA_KEY, "true")))


class CallAccess(Protocol):
    """What ServerKit asks of the access policy (grpc_kit.access.Access)."""

    def policy(self, method: str) -> Any: ...

    async def admit(self, policy: Any, method: str, context: Any) -> None: ...


class CallMetrics(Protocol):
    """One method's RPC metrics (grpc_kit.metrics.method_metrics)."""

    def started(self) -> None: ...

    def finished(self, code: str, started: float) -> None: ...


@dataclass(frozen=True, slots=True)
class _Route:
    """What a method's calls need, worked out on its first call."""

    method: str
    policy: Any
    metrics: CallMetrics | None


class ServerKit(_ServerInterceptor):
    """Around every unary call and server stream, outermost first: metrics (refused and
    failed calls count too), the request id (set before anything logs), the log line,
    errors to statuses, request checks (inside the error mapping, so their
    InvalidArgument is a status like any other; before access, as before), the replay
    trailer, then the access policy. Client and bidi streams pass through untouched.

    `metrics` builds a method's metric children (grpc_kit.metrics.method_metrics);
    `access` is the declared policy (grpc_kit.access.Access), or None where another
    interceptor (or nothing) decides."""

    def __init__(
        self,
        *,
        access: CallAccess | None = None,
        metrics: Callable[[str], CallMetrics] | None = None,
    ) -> None:
        self.access = access
        self.metrics = metrics
        # method -> (the handler grpc found, the one wrapped around it)
        self._wrapped: dict[str, tuple[Any, grpc.RpcMethodHandler[Any, Any]]] = {}

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
        known = self._wrapped.get(method)
        if known is not None and known[0] is handler:
            return known[1]
        wrapped = self._wrap(handler, method)
        self._wrapped[method] = (handler, wrapped)
        return wrapped

    def _wrap(
        self, handler: grpc.RpcMethodHandler[Any, Any], method: str
    ) -> grpc.RpcMethodHandler[Any, Any]:
        route = _Route(
            method,
            self.access.policy(method) if self.access is not None else None,
            self.metrics(method) if self.metrics is not None else None,
        )
        return wrap_handler(
            handler,
            lambda inner, request, context: self.unary(route, inner, request, context),
            lambda inner, request, context: self.stream(route, inner, request, context),
        )

    def _enter(self, route: _Route, context: Any) -> None:
        if route.metrics is not None:
            route.metrics.started()
        request_id_var.set(accept_request_id(metadata_value(context, REQUEST_ID_HEADER)))
        rpc_method_var.set(route.method)

    def _leave(self, route: _Route, context: Any, started: float, failed: bool) -> None:
        code = final_code(context, failed)
        log_call(route.method, code, started)
        if route.metrics is not None:
            route.metrics.finished(code, started)

    async def _admit(self, route: _Route, request: Any, context: Any) -> None:
        if isinstance(request, Message):
            check_request(request)
        if self.access is not None:
            await self.access.admit(route.policy, route.method, context)

    async def unary(self, route: _Route, inner: UnaryBehavior, request: Any, context: Any) -> Any:
        self._enter(route, context)
        started, failed = time.perf_counter(), False
        box: list[bool] = []
        token = replay_box_var.set(box)
        try:
            try:
                await self._admit(route, request, context)
                reply = await inner(request, context)
            except aio.AbortError:
                raise
            except Exception as exc:
                await abort_for(context, exc, route.method)
            finally:
                replay_box_var.reset(token)
            if box:
                send_replayed(context)
            return reply
        except BaseException:
            failed = True
            raise
        finally:
            self._leave(route, context, started, failed)

    async def stream(
        self, route: _Route, inner: StreamBehavior, request: Any, context: Any
    ) -> AsyncIterator[Any]:
        self._enter(route, context)
        started, failed = time.perf_counter(), False
        try:
            try:
                await self._admit(route, request, context)
                async for item in iterate(inner(request, context)):
                    yield item
            except aio.AbortError:
                raise
            except Exception as exc:
                await abort_for(context, exc, route.method)
        except BaseException:
            failed = True
            raise
        finally:
            self._leave(route, context, started, failed)


def default_interceptors() -> list[aio.ServerInterceptor[Any, Any]]:
    """The kit's interceptor with no access policy and no metrics (tests put their own
    access interceptor after it; GrpcService builds the whole one)."""
    return [ServerKit()]
