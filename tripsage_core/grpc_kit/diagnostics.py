"""The kit's internal Diagnostics/Describe RPC: what an operator needs to know about a
running service (version, uptime, dependency latency, pool use, modes).

Every service serves it through the kit, so none repeats it. It has no proto of its
own and no HTTP binding: the request is google.protobuf.Empty and the reply a
google.protobuf.Struct with camelCase keys, which the gateway's detailed health
passes through. Only TripSage services (the gateway's service credential) may call it.
"""

from __future__ import annotations

import importlib.metadata
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2
from grpc import aio

from tripsage_core.grpc_kit.access import SERVICE, AccessTable
from tripsage_core.service_credentials import SERVICE_TOKEN_HEADER

DIAGNOSTICS_SERVICE = "tripsage.ops.v1.Diagnostics"
DESCRIBE_METHOD = f"/{DIAGNOSTICS_SERVICE}/Describe"
DIAGNOSTICS_ACCESS: AccessTable = {"Describe": SERVICE}

# The dependencies' figures (runtime.describe) and the service's named modes.
Describe = Callable[[], Awaitable[Mapping[str, Any]]]
Modes = Callable[[], Mapping[str, str]]


def package_version() -> str:
    try:
        return importlib.metadata.version("tripsage")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


class Diagnostics:
    def __init__(self, describe: Describe | None, modes: Modes | None) -> None:
        self.describe = describe
        self.modes = modes
        self.version = package_version()
        self.started = time.monotonic()

    async def report(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "version": self.version,
            "uptimeSeconds": round(time.monotonic() - self.started, 1),
        }
        if self.describe is not None:
            body.update(await self.describe())
        if self.modes is not None:
            body["modes"] = dict(self.modes())
        return body

    async def _describe(self, request: empty_pb2.Empty, context: Any) -> struct_pb2.Struct:
        reply = struct_pb2.Struct()
        reply.update(await self.report())
        return reply

    def register(self, server: aio.Server) -> None:
        handler = grpc.unary_unary_rpc_method_handler(
            self._describe,
            request_deserializer=empty_pb2.Empty.FromString,
            response_serializer=struct_pb2.Struct.SerializeToString,
        )
        server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler(DIAGNOSTICS_SERVICE, {"Describe": handler}),)
        )


async def describe(channel: grpc.aio.Channel, token: str, deadline: float) -> dict[str, Any]:
    """Call a service's Describe with a service credential (the gateway's side)."""
    call = channel.unary_unary(
        DESCRIBE_METHOD,
        request_serializer=empty_pb2.Empty.SerializeToString,
        response_deserializer=struct_pb2.Struct.FromString,
    )
    reply = await call(
        empty_pb2.Empty(), timeout=deadline, metadata=((SERVICE_TOKEN_HEADER, token),)
    )
    body: dict[str, Any] = _whole_numbers(json_format.MessageToDict(reply))
    return body


def _whole_numbers(value: Any) -> Any:
    # A Struct carries every number as a double: give counts back as integers.
    if isinstance(value, dict):
        return {key: _whole_numbers(item) for key, item in value.items()}
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value
