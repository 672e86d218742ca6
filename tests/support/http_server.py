"""Serve an ASGI app (the gateway, a fake provider, an OAuth server) in the test's event loop.

The socket is bound to port 0 before uvicorn starts, so parallel runs never race for a port.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Literal

import uvicorn

from gateway.serving import server_config


@asynccontextmanager
async def serve_asgi(
    app: Any, *, lifespan: Literal["on", "off"] = "off", trusted_proxies: Sequence[str] = ()
) -> AsyncIterator[str]:
    """Run `app` on 127.0.0.1:<free port>, as the gateway is served; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = server_config(
        app,
        host="127.0.0.1",
        port=0,
        trusted_proxies=trusted_proxies,
        log_config=None,
        access_log=False,
        lifespan=lifespan,
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
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()
