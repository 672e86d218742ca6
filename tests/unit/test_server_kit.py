"""The kit's one server interceptor (ServerKit): every call, the first of its method or
not, gets the whole chain, and the per-call log line keeps the fields operators search."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import grpc
import pytest
import pytest_asyncio
from google.protobuf import struct_pb2
from google.protobuf.timestamp_pb2 import Timestamp
from grpc import aio

from tripsage_core.errors import NotFound
from tripsage_core.grpc_kit.interceptors import default_interceptors
from tripsage_core.grpc_kit.timestamps import to_timestamp
from tripsage_core.logging import JsonFormatter, TextFormatter, _ContextFilter
from tripsage_core.request_context import request_id_var

SEEN: list[str] = []


async def _echo(request: struct_pb2.Struct, context: aio.ServicerContext) -> struct_pb2.Struct:
    SEEN.append(request_id_var.get())
    return request


async def _missing(request: struct_pb2.Struct, context: aio.ServicerContext) -> struct_pb2.Struct:
    raise NotFound("no such thing", reason="THING_NOT_FOUND")


async def _broken(request: struct_pb2.Struct, context: aio.ServicerContext) -> struct_pb2.Struct:
    raise ValueError("a bug")


async def _count(
    request: struct_pb2.Struct, context: aio.ServicerContext
) -> AsyncIterator[struct_pb2.Struct]:
    for n in range(3):
        yield struct_pb2.Struct(fields={"n": struct_pb2.Value(number_value=n)})


def _unary(fn: object) -> grpc.RpcMethodHandler:
    return grpc.unary_unary_rpc_method_handler(
        fn,
        request_deserializer=struct_pb2.Struct.FromString,
        response_serializer=struct_pb2.Struct.SerializeToString,
    )


@pytest_asyncio.fixture
async def address() -> AsyncIterator[str]:
    server = aio.server(interceptors=default_interceptors())
    handlers = {name: _unary(fn) for name, fn in (("Echo", _echo), ("Missing", _missing))}
    handlers["Broken"] = _unary(_broken)
    handlers["Count"] = grpc.unary_stream_rpc_method_handler(
        _count,
        request_deserializer=struct_pb2.Struct.FromString,
        response_serializer=struct_pb2.Struct.SerializeToString,
    )
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("test.Kit", handlers),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await server.stop(None)


@pytest.fixture
def rpc_lines() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """Reads the tripsage.rpc log lines so far, as the JSON files hold them."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(_ContextFilter("test"))
    logger = logging.getLogger("tripsage.rpc")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _stub(channel: aio.Channel, name: str) -> aio.UnaryUnaryMultiCallable:
    return channel.unary_unary(
        f"/test.Kit/{name}",
        request_serializer=struct_pb2.Struct.SerializeToString,
        response_deserializer=struct_pb2.Struct.FromString,
    )


async def test_every_call_gets_the_whole_chain_not_only_the_first(address: str) -> None:
    SEEN.clear()
    nul = struct_pb2.Struct(fields={"name": struct_pb2.Value(string_value="a\x00b")})
    async with aio.insecure_channel(address) as channel:
        echo = _stub(channel, "Echo")
        for n in range(3):
            await echo(struct_pb2.Struct(), metadata=(("x-request-id", f"req-{n}"),))
            # The request checks run on every call, not only while the wrapper is new.
            with pytest.raises(aio.AioRpcError) as refused:
                await echo(nul)
            assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert (refused.value.details() or "").startswith("name: must not contain the NUL")
    assert SEEN == ["req-0", "req-1", "req-2"]


async def test_the_log_line_keeps_method_code_duration_and_request_id(
    address: str, rpc_lines: Callable[[], list[dict[str, Any]]]
) -> None:
    # Each line is written before the call's status is sent, so it is there on return.
    async with aio.insecure_channel(address) as channel:
        await _stub(channel, "Echo")(struct_pb2.Struct(), metadata=(("x-request-id", "req-ok"),))
        with pytest.raises(aio.AioRpcError) as missing:
            await _stub(channel, "Missing")(
                struct_pb2.Struct(), metadata=(("x-request-id", "req-404"),)
            )
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND
        with pytest.raises(aio.AioRpcError) as broken:
            await _stub(channel, "Broken")(struct_pb2.Struct())
        assert broken.value.code() == grpc.StatusCode.INTERNAL
        stream = channel.unary_stream(
            "/test.Kit/Count",
            request_serializer=struct_pb2.Struct.SerializeToString,
            response_deserializer=struct_pb2.Struct.FromString,
        )
        assert [m.fields["n"].number_value async for m in stream(struct_pb2.Struct())] == [0, 1, 2]
    lines = [line for line in rpc_lines() if line["message"] == "rpc"]
    by_method = {line["method"]: line for line in lines}
    assert set(by_method) == {f"/test.Kit/{m}" for m in ("Echo", "Missing", "Broken", "Count")}
    ok, missing_line = by_method["/test.Kit/Echo"], by_method["/test.Kit/Missing"]
    assert (ok["code"], ok["level"], ok["request_id"]) == ("OK", "INFO", "req-ok")
    assert (missing_line["code"], missing_line["request_id"]) == ("NOT_FOUND", "req-404")
    assert by_method["/test.Kit/Broken"]["code"] == "INTERNAL"
    assert by_method["/test.Kit/Broken"]["level"] == "ERROR"
    assert by_method["/test.Kit/Count"]["code"] == "OK"
    for line in lines:
        assert isinstance(line["duration_ms"], float)
        assert line["duration_ms"] >= 0
        assert line["logger"] == "tripsage.rpc"


@pytest.mark.parametrize(
    "value",
    [
        datetime(2027, 4, 10, 12, 30, 5, 123456, tzinfo=UTC),
        datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 3, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-5))),
        datetime(2026, 7, 1, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        datetime(2026, 3, 1, 1, 2, 3),  # naive: local time
    ],
)
def test_timestamps_name_the_same_instant_as_from_datetime(value: datetime) -> None:
    expected = Timestamp()
    expected.FromDatetime(value.astimezone(UTC))
    assert to_timestamp(value) == expected


@pytest.mark.parametrize("created", [1.9999, 1_700_000_000.0005, 1_800_000_059.999])
def test_text_lines_stamp_times_as_the_stdlib_does(created: float) -> None:
    record = logging.makeLogRecord({"msg": "rpc", "created": created, "service": "test"})
    record.msecs = (created - int(created)) * 1000
    assert TextFormatter().formatTime(record) == logging.Formatter().formatTime(record)
