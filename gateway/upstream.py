"""gRPC channels to the upstream services and the metadata sent on calls."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping

import grpc
from grpc import aio

from gateway.errors import GatewayError, invalid_argument
from tripsage_core.client_address import HEADER as CLIENT_ADDRESS_HEADER
from tripsage_core.client_address import seal
from tripsage_core.grpc_kit.targets import ROUND_ROBIN, grpc_target
from tripsage_core.grpc_kit.tls import open_channel
from tripsage_core.idempotency import MAX_KEY_LENGTH
from tripsage_core.request_context import REQUEST_ID_HEADER

# Request headers passed on to the upstream as gRPC metadata, with the longest
# value each may have. Together they stay well under gRPC's 8 KiB metadata limit,
# so a long header is refused here (431) instead of failing the call with grpc's
# own text. Trace context that is too long is dropped, as W3C allows.
MAX_HEADER_LENGTHS = {
    "authorization": 4096,
    "x-api-key": 256,
    "idempotency-key": MAX_KEY_LENGTH,
    "traceparent": 128,
    "tracestate": 512,
}
FORWARDED_HEADERS = tuple(MAX_HEADER_LENGTHS)
_DROPPED_WHEN_TOO_LONG = frozenset({"traceparent", "tracestate"})
MAX_CLIENT_HOST = 64


def outgoing_metadata(
    headers: Mapping[str, str], request_id: str, client_host: str | None
) -> tuple[tuple[str, str], ...]:
    """Metadata for the upstream call, built from the HTTP request headers.

    gRPC accepts only printable ASCII in text metadata, so a header with
    anything else is the caller's error (400), not a failed call.
    """
    metadata: list[tuple[str, str]] = []
    for name, longest in MAX_HEADER_LENGTHS.items():
        value = headers.get(name)
        if not value:
            continue
        if len(value) > longest:
            if name in _DROPPED_WHEN_TOO_LONG:
                continue
            raise header_too_large(name, longest)
        if not _is_metadata_text(value):
            raise invalid_argument(
                f"header {name} contains characters that are not printable ASCII",
                [(name, "only printable ASCII characters are allowed")],
                reason="INVALID_HEADER",
            )
        metadata.append((name, value))
    metadata.append((REQUEST_ID_HEADER, request_id))
    # Only the client address as the server sees it (after trusted proxies, see
    # gateway/serving.py), sealed so services can tell it from a caller's own claim.
    if client_host and _is_metadata_text(client_host):
        metadata.append((CLIENT_ADDRESS_HEADER, _sealed(client_host[:MAX_CLIENT_HOST])))
    return tuple(metadata)


# A seal is the same for one address within one second: made once (an HMAC per request
# was about 1 % of the gateway's CPU); at most this many addresses are remembered.
_SEALS: dict[str, tuple[int, str]] = {}
_MAX_SEALS = 10_000


def _sealed(host: str) -> str:
    now = int(time.time())
    found = _SEALS.get(host)
    if found is None or found[0] != now:
        if len(_SEALS) >= _MAX_SEALS:
            _SEALS.clear()
        found = _SEALS[host] = (now, seal(host, now=now))
    return found[1]


def header_too_large(name: str, longest: int) -> GatewayError:
    error = invalid_argument(
        f"header {name} is longer than {longest} characters",
        [(name, f"at most {longest} characters")],
        reason="HEADER_TOO_LARGE",
    )
    error.http_status = 431  # Request Header Fields Too Large
    return error


def _is_metadata_text(value: str) -> bool:
    """Printable ASCII (" " to "~"); for ASCII text exactly what isprintable() says."""
    return value.isascii() and value.isprintable()


# Channel options: long-lived connections with keepalive, calls spread round robin over
# every address a service name resolves to, and quick recovery when replicas come and go.
CHANNEL_OPTIONS: tuple[tuple[str, int | str], ...] = (
    ("grpc.enable_retries", 1),
    ("grpc.service_config", ROUND_ROBIN),
    # A ping every 30 s while calls are open; a peer that does not answer within 10 s
    # is dropped (a replica whose host vanished, with no FIN, stops getting calls).
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    # Connect attempts time out after 1 s and are retried at most 5 s apart, so a
    # replica that comes back is used again within seconds, not grpc's 2 minutes.
    ("grpc.min_reconnect_backoff_ms", 1_000),
    ("grpc.initial_reconnect_backoff_ms", 500),
    ("grpc.max_reconnect_backoff_ms", 5_000),
    # A connection that drops asks the DNS resolver again; allow that every second
    # (grpc's default is 30 s), so a headless Service's new pod set is seen quickly.
    ("grpc.dns_min_time_between_resolutions_ms", 1_000),
    ("grpc.max_receive_message_length", 16 * 1024 * 1024),
)


class ChannelPool:
    """One long-lived grpc.aio channel per upstream address, created lazily; over TLS
    when credentials are given (tripsage_core/grpc_kit/tls.py). An address is a
    <NAME>_SERVICE_ADDR value (tripsage_core/grpc_kit/targets.py: a DNS name, whose
    every address gets calls, or a list of IP addresses); a bad one fails here, at
    start-up."""

    def __init__(
        self, upstreams: Mapping[str, str], credentials: grpc.ChannelCredentials | None = None
    ) -> None:
        self.upstreams: dict[str, str] = dict(upstreams)
        self.credentials = credentials
        self._targets = {address: grpc_target(address) for address in self.upstreams.values()}
        self._channels: dict[str, aio.Channel] = {}
        self._lock = asyncio.Lock()

    def address_for(self, service_full_name: str) -> str | None:
        return self.upstreams.get(service_full_name)

    def channel(self, address: str) -> aio.Channel:
        existing = self._channels.get(address)
        if existing is None:
            target = self._targets.get(address) or grpc_target(address)
            existing = open_channel(target, self.credentials, options=list(CHANNEL_OPTIONS))
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
