"""The request id: adopted from the caller, set for its logs, passed on to the next service."""

from __future__ import annotations

import json
import logging

import grpc
from grpc import aio

from tripsage_core.grpc_kit.client import service_channel
from tripsage_core.grpc_kit.interceptors import default_interceptors
from tripsage_core.logging import JsonFormatter, _ContextFilter
from tripsage_core.request_context import accept_request_id, request_id_var


async def test_the_id_crosses_a_hop_and_is_visible_to_the_handler() -> None:
    seen: dict[str, str] = {}

    async def echo(request: bytes, context: aio.ServicerContext) -> bytes:
        seen["metadata"] = dict(context.invocation_metadata() or ()).get("x-request-id", "")
        seen["contextvar"] = request_id_var.get()
        return request

    handler = grpc.method_handlers_generic_handler(
        "test.Echo", {"Echo": grpc.unary_unary_rpc_method_handler(echo)}
    )
    server = aio.server(interceptors=default_interceptors())
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        token = request_id_var.set("req-from-gateway-1")
        try:
            async with service_channel(f"127.0.0.1:{port}") as channel:
                call = channel.unary_unary("/test.Echo/Echo")
                assert await call(b"hi") == b"hi"
        finally:
            request_id_var.reset(token)
    finally:
        await server.stop(None)
    assert seen == {"metadata": "req-from-gateway-1", "contextvar": "req-from-gateway-1"}


def test_insane_ids_are_replaced() -> None:
    assert accept_request_id("abc-123") == "abc-123"
    assert accept_request_id("bad id\nwith newline") != "bad id\nwith newline"
    assert len(accept_request_id(None)) == 32


def test_json_logs_carry_service_and_request_id() -> None:
    record = logging.makeLogRecord(
        {
            "name": "tripsage.rpc",
            "levelno": logging.INFO,
            "levelname": "INFO",
            "msg": "rpc",
            "method": "/x.Y/Z",
        }
    )
    token = request_id_var.set("rid-42")
    try:
        _ContextFilter("trips").filter(record)
    finally:
        request_id_var.reset(token)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["service"] == "trips"
    assert entry["request_id"] == "rid-42"
    assert entry["method"] == "/x.Y/Z"
    assert entry["message"] == "rpc"
