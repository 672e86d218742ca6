"""gRPC channels to the upstream services and the metadata sent on calls."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from grpc import aio

from gateway.errors import invalid_argument
from tripsage_core.request_context import REQUEST_ID_HEADER

# Request headers passed on to the upstream as gRPC metadata.
FORWARDED_HEADERS = (
    "authorization",
    "x-api-key",
    "idempotency-key",
    "traceparent",
    "tracestate",
)


def outgoing_metadata(
    headers: Mapping[str, str], request_id: str, client_host: str | None
) -> tuple[tuple[str, str], ...]:
    """Metadata for the upstream call, built from the HTTP request headers.

    gRPC accepts only printable ASCII in text metadata, so a header with
    anything else is the caller's error (400), not a failed call.
    """
    metadata: list[tuple[str, str]] = []
    for name in FORWARDED_HEADERS:
        value = headers.get(name)
        if not value:
            continue
        if not _is_metadata_text(value):
            raise invalid_argument(
                f"header {name} contains characters that are not printable ASCII",
                [(name, "only printable ASCII characters are allowed")],
                reason="INVALID_HEADER",
            )
        metadata.append((name, value))
    metadata.append((REQUEST_ID_HEADER, request_id))
    forwarded_for = headers.get("x-forwarded-for")
    if client_host:
        forwarded_for = f"{forwarded_for}, {client_host}" if forwarded_for else client_host
    if forwarded_for and _is_metadata_text(forwarded_for):
        metadata.append(("x-forwarded-for", forwarded_for))
    return tuple(metadata)


def _is_metadata_text(value: str) -> bool:
    return all(" " <= char <= "~" for char in value)


class ChannelPool:
    """One insecure grpc.aio channel per upstream address, created lazily."""

    def __init__(self, upstreams: Mapping[str, str]) -> None:
        self.upstreams: dict[str, str] = dict(upstreams)
        self._channels: dict[str, aio.Channel] = {}
        self._lock = asyncio.Lock()

    def address_for(self, service_full_name: str) -> str | None:
        return self.upstreams.get(service_full_name)

    def channel(self, address: str) -> aio.Channel:
        existing = self._channels.get(address)
        if existing is None:
            existing = aio.insecure_channel(
                address,
                options=[
                    ("grpc.enable_retries", 1),
                    ("grpc.keepalive_time_ms", 30_000),
                    ("grpc.max_receive_message_length", 16 * 1024 * 1024),
                ],
            )
            self._channels[address] = existing
        return existing

    def open_all(self) -> None:
        for address in set(self.upstreams.values()):
            self.channel(address)

    async def close(self) -> None:
        async with self._lock:
            channels = list(self._channels.values())
            self._channels.clear()
        await asyncio.gather(*(channel.close(grace=None) for channel in channels))
