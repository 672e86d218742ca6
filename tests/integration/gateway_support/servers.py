"""Real servers on free ports: a grpc.aio server and the gateway under uvicorn."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

import grpc
import uvicorn
from starlette.types import ASGIApp

from gateway.serving import server_config


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


@asynccontextmanager
async def http_server(app: ASGIApp, trusted_proxies: Sequence[str] = ()) -> AsyncIterator[str]:
    """Serve an ASGI app with uvicorn on a free port, as the gateway is served; yields its
    base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = server_config(
        app,
        host="127.0.0.1",
        port=port,
        trusted_proxies=trusted_proxies,
        lifespan="on",
        log_level="warning",
        access_log=False,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(10):
            while not server.started:
                if task.done():
                    task.result()
                    raise RuntimeError("uvicorn exited before starting")
                await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()
