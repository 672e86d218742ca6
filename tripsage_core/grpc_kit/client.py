"""Outgoing calls between services: the request id and the service credential go along.

With settings, every call also carries a fresh service credential naming the
calling service and the end user being served (the principal the
CallerResolver verified for the current RPC), so the callee knows both who is
asking and for whom without trusting a bare user id.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import grpc
from grpc import aio

from tripsage_core.api_key_scopes import method_parts
from tripsage_core.config import Settings
from tripsage_core.grpc_kit.rpc_context import rpc_method_var
from tripsage_core.grpc_kit.targets import ROUND_ROBIN, grpc_target
from tripsage_core.grpc_kit.tls import channel_credentials, open_channel
from tripsage_core.identity import current_principal_var
from tripsage_core.request_context import REQUEST_ID_HEADER, request_id_var
from tripsage_core.service_credentials import (
    SERVICE_TOKEN_HEADER,
    ServiceCredentials,
    service_credentials,
)

if TYPE_CHECKING:
    _UnaryUnary = aio.UnaryUnaryClientInterceptor[Any, Any]
    _UnaryStream = aio.UnaryStreamClientInterceptor[Any, Any]
else:  # not subscriptable at run time
    _UnaryUnary = aio.UnaryUnaryClientInterceptor
    _UnaryStream = aio.UnaryStreamClientInterceptor

DEFAULT_CALLER = "tripsage"


def serving_service() -> str:
    """The service whose RPC is being served now ("trips" while in TripService/GetTrip)."""
    parts = method_parts(rpc_method_var.get())
    return parts[0] if parts else DEFAULT_CALLER


class _OutgoingMetadata:
    def __init__(self, credentials: ServiceCredentials | None, caller: str | None) -> None:
        self.credentials = credentials
        self.caller = caller

    def apply(self, details: aio.ClientCallDetails) -> aio.ClientCallDetails:
        metadata = aio.Metadata(*(details.metadata or ()))
        request_id = request_id_var.get()
        if request_id and REQUEST_ID_HEADER not in metadata:
            metadata.add(REQUEST_ID_HEADER, request_id)
        if self.credentials is not None and SERVICE_TOKEN_HEADER not in metadata:
            token = self.credentials.issue(
                self.caller or serving_service(), current_principal_var.get()
            )
            metadata.add(SERVICE_TOKEN_HEADER, token)
        return aio.ClientCallDetails(
            details.method, details.timeout, metadata, details.credentials, details.wait_for_ready
        )


class _Outgoing:
    """The one body of both interceptors: grpc files an interceptor under a single kind."""

    def __init__(self, outgoing: _OutgoingMetadata) -> None:
        self.outgoing = outgoing

    async def intercept(
        self,
        continuation: Callable[..., Any],
        client_call_details: aio.ClientCallDetails,
        request: Any,
    ) -> Any:
        return await continuation(self.outgoing.apply(client_call_details), request)


class OutgoingUnaryUnary(_Outgoing, _UnaryUnary):
    intercept_unary_unary = _Outgoing.intercept


class OutgoingUnaryStream(_Outgoing, _UnaryStream):
    intercept_unary_stream = _Outgoing.intercept


def service_channel(
    address: str, settings: Settings | None = None, *, caller: str | None = None
) -> grpc.aio.Channel:
    """A channel to another TripSage service.

    It always carries the current request id. Given `settings`, each call also
    carries a service credential for `caller` (default: the service whose RPC
    is being served) acting for the current end user, if any, and the channel
    uses TLS when the settings say so.
    """
    outgoing = _OutgoingMetadata(service_credentials(settings) if settings else None, caller)
    return open_channel(
        grpc_target(address),  # every replica behind the name or list gets calls
        channel_credentials(settings) if settings else None,
        options=[("grpc.service_config", ROUND_ROBIN)],
        interceptors=[OutgoingUnaryUnary(outgoing), OutgoingUnaryStream(outgoing)],
    )


# One long-lived channel per event loop, address and settings: opening a channel
# per call would pay a TCP and HTTP/2 handshake on every request.
_shared: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[tuple[str, int], grpc.aio.Channel]
] = weakref.WeakKeyDictionary()


def shared_service_channel(address: str, settings: Settings) -> grpc.aio.Channel:
    """Like service_channel, but reused by every call from this process; do not close it."""
    channels = _shared.setdefault(asyncio.get_running_loop(), {})
    key = (address, id(settings))
    channel = channels.get(key)
    if channel is None:
        channel = channels[key] = service_channel(address, settings)
    return channel
