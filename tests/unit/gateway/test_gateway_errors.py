"""The gRPC -> HTTP status table and the JSON error body."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import any_pb2, duration_pb2
from google.rpc import error_details_pb2, status_pb2

from gateway.errors import (
    HTTP_STATUS_BY_GRPC_CODE,
    STATUS_DETAILS_KEY,
    error_from_rpc,
    http_status_for,
    invalid_argument,
    render_detail,
    retry_after_seconds,
)

CANONICAL = {
    "OK": 200,
    "CANCELLED": 499,
    "UNKNOWN": 500,
    "INVALID_ARGUMENT": 400,
    "DEADLINE_EXCEEDED": 504,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "PERMISSION_DENIED": 403,
    "RESOURCE_EXHAUSTED": 429,
    "FAILED_PRECONDITION": 400,
    "ABORTED": 409,
    "OUT_OF_RANGE": 400,
    "UNIMPLEMENTED": 501,
    "INTERNAL": 500,
    "UNAVAILABLE": 503,
    "DATA_LOSS": 500,
    "UNAUTHENTICATED": 401,
}


@pytest.mark.parametrize("code", list(grpc.StatusCode), ids=lambda code: code.name)
def test_status_table_covers_every_code(code: grpc.StatusCode) -> None:
    assert http_status_for(code) == CANONICAL[code.name]


def test_unmapped_is_500() -> None:
    assert http_status_for(None) == 500
    assert set(HTTP_STATUS_BY_GRPC_CODE) == set(grpc.StatusCode)


def _trailers(*details: object, code: int = 5, message: str = "m") -> list[tuple[str, object]]:
    status = status_pb2.Status(code=code, message=message)
    for detail in details:
        packed = any_pb2.Any()
        packed.Pack(detail)  # type: ignore[arg-type]
        status.details.append(packed)
    return [("other", "x"), (STATUS_DETAILS_KEY, status.SerializeToString())]


def test_error_body_renders_status_details() -> None:
    info = error_details_pb2.ErrorInfo(reason="TRIP_NOT_FOUND", domain="tripsage.app")
    info.metadata["trip_id"] = "t1"
    rendered = error_from_rpc(grpc.StatusCode.NOT_FOUND, "trip not found", _trailers(info))
    assert rendered.http_status == 404
    assert rendered.body() == {
        "error": {
            "code": 404,
            "status": "NOT_FOUND",
            "message": "trip not found",
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "TRIP_NOT_FOUND",
                    "domain": "tripsage.app",
                    "metadata": {"trip_id": "t1"},
                }
            ],
        }
    }
    assert rendered.headers == {}


def test_field_violations_render_in_camel_case() -> None:
    bad = error_details_pb2.BadRequest(
        field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field="startDate", description="bad")
        ]
    )
    rendered = error_from_rpc(grpc.StatusCode.INVALID_ARGUMENT, "bad", _trailers(bad, code=3))
    assert rendered.body()["error"]["details"] == [
        {
            "@type": "type.googleapis.com/google.rpc.BadRequest",
            "fieldViolations": [{"field": "startDate", "description": "bad"}],
        }
    ]


def test_unknown_detail_type_is_kept_as_base64() -> None:
    packed = any_pb2.Any(type_url="type.googleapis.com/some.Unknown", value=b"\x01\x02")
    assert render_detail(packed) == {"@type": "type.googleapis.com/some.Unknown", "value": "AQI="}


def test_no_trailers_means_no_details() -> None:
    rendered = error_from_rpc(grpc.StatusCode.INTERNAL, "", None)
    assert rendered.body()["error"] == {
        "code": 500,
        "status": "INTERNAL",
        "message": "INTERNAL",
        "details": [],
    }


def test_garbage_status_trailer_is_ignored() -> None:
    rendered = error_from_rpc(grpc.StatusCode.INTERNAL, "x", [(STATUS_DETAILS_KEY, b"\xff\xff")])
    assert rendered.details == []


@pytest.mark.parametrize(
    ("presented", "header"),
    [
        (False, 'Bearer realm="tripsage"'),
        (True, 'Bearer realm="tripsage", error="invalid_token"'),
    ],
)
def test_unauthenticated_sets_www_authenticate(presented: bool, header: str) -> None:
    rendered = error_from_rpc(
        grpc.StatusCode.UNAUTHENTICATED, "no", None, token_presented=presented
    )
    assert rendered.http_status == 401
    assert rendered.headers["WWW-Authenticate"] == header


def test_retry_info_sets_retry_after() -> None:
    retry = error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(seconds=2, nanos=1))
    rendered = error_from_rpc(grpc.StatusCode.RESOURCE_EXHAUSTED, "slow down", _trailers(retry))
    assert rendered.http_status == 429
    assert rendered.headers["Retry-After"] == "3"
    assert rendered.details[0]["retryDelay"] == "2.000000001s"


def test_retry_after_rounds_up_to_at_least_one_second() -> None:
    zero = error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(nanos=10))
    assert retry_after_seconds([zero]) == 1
    assert retry_after_seconds([error_details_pb2.RetryInfo()]) is None
    assert retry_after_seconds([]) is None


def test_gateway_invalid_argument_carries_field_violations() -> None:
    error = invalid_argument("bad page size", [("pageSize", "expected a 32-bit integer")])
    body = error.to_response().body()["error"]
    assert body["code"] == 400
    assert body["status"] == "INVALID_ARGUMENT"
    types = [detail["@type"] for detail in body["details"]]
    assert types == [
        "type.googleapis.com/google.rpc.ErrorInfo",
        "type.googleapis.com/google.rpc.BadRequest",
    ]
    assert body["details"][1]["fieldViolations"] == [
        {"field": "pageSize", "description": "expected a 32-bit integer"}
    ]
