"""Real servers on free ports: a grpc.aio server and the gateway under uvicorn."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import grpc
from starlette.types import ASGIApp

from tests.support.http_server import serve_asgi


@asynccontextmanager
async def grpc_server(*register: Callable[[grpc.aio.Server], None]) -> AsyncIterator[str]:
    """A grpc.aio server on 127.0.0.1:<free port>; yields its address."""
    server = grpc.aio.server()
    for add in register:
        add(server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await server.stop(grace=None)


def unreachable_address() -> str:
    """An address nothing listens on (a port bound and released at once)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"127.0.0.1:{port}"


def http_server(
    app: ASGIApp, trusted_proxies: Sequence[str] = ()
) -> AbstractAsyncContextManager[str]:
    """The gateway (or any ASGI app) with its lifespan, on a free port, as the gateway is
    served; yields its URL."""
    return serve_asgi(app, lifespan="on", trusted_proxies=trusted_proxies)
