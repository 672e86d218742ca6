"""Reading the details of a gRPC error the way a client would."""

from __future__ import annotations

import grpc
import httpx
from google.rpc import error_details_pb2
from grpc_status import rpc_status


def field_violations(error: grpc.aio.AioRpcError) -> dict[str, str]:
    """field -> description from the BadRequest detail of a failed call."""
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None
    found: dict[str, str] = {}
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            found.update({v.field: v.description for v in bad.field_violations})
    return found


def error_info(error: grpc.aio.AioRpcError) -> error_details_pb2.ErrorInfo:
    """The ErrorInfo detail of a failed call (empty when it has none)."""
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    info = error_details_pb2.ErrorInfo()
    for detail in status.details if status else ():
        if detail.Unpack(info):
            return info
    return info


def http_field_violations(reply: httpx.Response) -> dict[str, str]:
    """field -> description from the BadRequest detail of a gateway error body."""
    return {
        violation["field"]: violation["description"]
        for detail in reply.json()["error"]["details"]
        for violation in detail.get("fieldViolations", ())
    }
