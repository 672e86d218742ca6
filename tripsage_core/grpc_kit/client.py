"""Outgoing calls between services: the request id goes along on every call."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import grpc
from grpc import aio

from tripsage_core.request_context import REQUEST_ID_HEADER, request_id_var

if TYPE_CHECKING:
    _UnaryUnary = aio.UnaryUnaryClientInterceptor[Any, Any]
    _UnaryStream = aio.UnaryStreamClientInterceptor[Any, Any]
else:  # not subscriptable at run time
    _UnaryUnary = aio.UnaryUnaryClientInterceptor
    _UnaryStream = aio.UnaryStreamClientInterceptor


def _with_request_id(details: aio.ClientCallDetails) -> aio.ClientCallDetails:
    request_id = request_id_var.get()
    if not request_id:
        return details
    metadata = aio.Metadata(*(details.metadata or ()))
    if REQUEST_ID_HEADER not in metadata:
        metadata.add(REQUEST_ID_HEADER, request_id)
    return aio.ClientCallDetails(
        details.method, details.timeout, metadata, details.credentials, details.wait_for_ready
    )


class RequestIdUnaryUnary(_UnaryUnary):
    async def intercept_unary_unary(
        self,
        continuation: Callable[..., Any],
        client_call_details: aio.ClientCallDetails,
        request: Any,
    ) -> Any:
        return await continuation(_with_request_id(client_call_details), request)


class RequestIdUnaryStream(_UnaryStream):
    async def intercept_unary_stream(
        self,
        continuation: Callable[..., Any],
        client_call_details: aio.ClientCallDetails,
        request: Any,
    ) -> Any:
        return await continuation(_with_request_id(client_call_details), request)


def service_channel(address: str) -> grpc.aio.Channel:
    """A channel to another TripSage service that carries the current request id."""
    return aio.insecure_channel(
        address,
        interceptors=[RequestIdUnaryUnary(), RequestIdUnaryStream()],  # type: ignore[list-item]
    )
