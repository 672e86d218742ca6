"""The ceilings the read-path benchmark compares against, each its own process.

- `grpc PORT FILE`: a bare grpc.aio server whose one unary method answers the
  bytes in FILE (the size of a real GetTrip answer), built the way our services
  build theirs (on uvloop, as tripsage_core.entrypoint runs them), minus everything
  TripSage adds (interceptors, auth, SQL).
- `asgi PORT FILE`: a bare ASGI app answering the JSON in FILE, served by the
  same uvicorn configuration as the gateway (gateway.serving.server_config).

    python bench/ceilings.py grpc|asgi PORT FILE
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

BARE_METHOD = "/bench.Bare/Get"


async def serve_grpc(port: int, answer: bytes) -> None:
    import grpc
    from grpc import aio

    async def handle(request: bytes, context: aio.ServicerContext[bytes, bytes]) -> bytes:
        return answer

    handler = grpc.method_handlers_generic_handler(
        "bench.Bare", {"Get": grpc.unary_unary_rpc_method_handler(handle)}
    )
    server = aio.server(options=[("grpc.so_reuseport", 0)])
    server.add_generic_rpc_handlers((handler,))
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    await server.wait_for_termination()


def serve_asgi(port: int, body: bytes) -> None:
    import uvicorn

    from gateway.serving import server_config

    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    config = server_config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    uvicorn.Server(config).run()


def main() -> None:
    kind, port, path = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    payload = path.read_bytes()
    if kind == "grpc":
        import uvloop

        asyncio.run(serve_grpc(port, payload), loop_factory=uvloop.new_event_loop)
    elif kind == "asgi":
        serve_asgi(port, payload)
    else:
        raise SystemExit(f"unknown ceiling {kind!r}: grpc or asgi")


if __name__ == "__main__":
    main()
