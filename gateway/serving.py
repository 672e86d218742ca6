"""How the gateway is served: the one place that decides whose forwarding headers count.

uvicorn by default believes `X-Forwarded-For` from any loopback client, which
lets every local caller claim a new address per request. Here only the proxies
in TRUSTED_PROXIES are believed (none by default); their header then names the
client, as the first address from the right that is not itself a trusted proxy.

The event loop is uvloop and the HTTP parser httptools (uvicorn's fast pair):
on the gateway's hot path they take about a third off the CPU of the asyncio
loop with h11 (docs/performance.md). uvicorn writes an answer's head and its
body to the socket separately; `CoalescingHttpToolsProtocol` sends what is
written in one turn of the event loop as one write (one system call and one
TCP segment instead of two per answer).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any

import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


def server_config(
    app: ASGIApp, *, host: str, port: int, trusted_proxies: Sequence[str] = (), **options: Any
) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        proxy_headers=bool(trusted_proxies),
        forwarded_allow_ips=list(trusted_proxies),  # never uvicorn's loopback default
        **{"loop": "uvloop", "http": CoalescingHttpToolsProtocol, **options},
    )


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol over a transport that coalesces writes."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(_CoalescingTransport(transport))  # type: ignore[arg-type]


class _CoalescingTransport:
    """Holds writes until the end of the event loop's turn, then writes them as one.

    A unary answer's head and body are written in the same turn (the app sends both
    without waiting), so they leave together; a stream's head leaves one turn later,
    with nothing held longer. Closing or aborting writes (or drops) what is held
    first; everything else is the transport's own.
    """

    __slots__ = ("_held", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._loop = asyncio.get_running_loop()
        self._held: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if not self._held:
            self._loop.call_soon(self._flush)
        self._held.append(bytes(data))

    def writelines(self, chunks: Iterable[bytes | bytearray | memoryview]) -> None:
        for chunk in chunks:
            self.write(chunk)

    def _flush(self) -> None:
        if self._held:
            data = self._held[0] if len(self._held) == 1 else b"".join(self._held)
            self._held.clear()
            if not self._transport.is_closing():
                self._transport.write(data)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def write_eof(self) -> None:
        self._flush()
        self._transport.write_eof()

    def abort(self) -> None:
        self._held.clear()
        self._transport.abort()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(map(len, self._held))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)
