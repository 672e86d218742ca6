"""gRPC status -> HTTP status, and the JSON error body.

The body follows Google's JSON error style (AIP-193):

    {"error": {"code": 404, "status": "NOT_FOUND", "message": "...",
               "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", ...}]}}

``details`` are the ``google.rpc.Status`` details the upstream attached in
the ``grpc-status-details-bin`` trailer, rendered with json_format.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf import any_pb2, json_format
from google.rpc import error_details_pb2, status_pb2

from tripsage_core.errors import ERROR_DOMAIN

STATUS_DETAILS_KEY = "grpc-status-details-bin"
WWW_AUTHENTICATE_REALM = 'Bearer realm="tripsage"'

# The canonical mapping (googleapis code.proto, grpc-gateway, Envoy).
HTTP_STATUS_BY_GRPC_CODE: Mapping[grpc.StatusCode, int] = {
    grpc.StatusCode.OK: 200,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNKNOWN: 500,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DATA_LOSS: 500,
    grpc.StatusCode.UNAUTHENTICATED: 401,
}


def http_status_for(code: grpc.StatusCode | None) -> int:
    """The HTTP status for a gRPC code; anything unmapped is 500."""
    if code is None:
        return 500
    return HTTP_STATUS_BY_GRPC_CODE.get(code, 500)


@dataclass(slots=True)
class ErrorResponse:
    """Everything needed to render one error: HTTP status, body and headers."""

    http_status: int
    status: str
    message: str
    details: list[dict[str, Any]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "code": self.http_status,
                "status": self.status,
                "message": self.message,
                "details": self.details,
            }
        }

    def json_bytes(self) -> bytes:
        return json.dumps(self.body(), ensure_ascii=False, separators=(",", ":")).encode()


class GatewayError(Exception):
    """An error the gateway itself raises (bad input, no route, ...)."""

    def __init__(
        self,
        code: grpc.StatusCode,
        message: str,
        *,
        details: Sequence[Any] = (),
        http_status: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = list(details)
        self.http_status = http_status if http_status is not None else http_status_for(code)
        self.headers = dict(headers or {})

    def to_response(self, *, token_presented: bool = False) -> ErrorResponse:
        response = ErrorResponse(
            http_status=self.http_status,
            status=self.code.name,
            message=self.message,
            details=[render_detail(detail) for detail in self.details],
            headers=dict(self.headers),
        )
        _add_status_headers(response, self.code, self.details, token_presented=token_presented)
        return response


def invalid_argument(
    message: str,
    violations: Iterable[tuple[str, str]] = (),
    *,
    reason: str = "INVALID_REQUEST",
) -> GatewayError:
    """INVALID_ARGUMENT with ErrorInfo and BadRequest field violations."""
    details: list[Any] = [error_details_pb2.ErrorInfo(reason=reason, domain=ERROR_DOMAIN)]
    field_violations = [
        error_details_pb2.BadRequest.FieldViolation(field=name, description=description)
        for name, description in violations
    ]
    if field_violations:
        details.append(error_details_pb2.BadRequest(field_violations=field_violations))
    return GatewayError(grpc.StatusCode.INVALID_ARGUMENT, message, details=details)


def render_detail(detail: Any) -> dict[str, Any]:
    """A google.rpc detail (or an Any holding one) as JSON with "@type"."""
    packed = detail
    if not isinstance(detail, any_pb2.Any):
        packed = any_pb2.Any()
        packed.Pack(detail)
    try:
        rendered = json_format.MessageToDict(packed)
    except Exception:  # a detail type this process does not know
        return {
            "@type": packed.type_url,
            "value": base64.b64encode(packed.value).decode("ascii"),
        }
    return dict(rendered)


def status_from_trailers(
    trailing_metadata: Iterable[Any] | None,
) -> status_pb2.Status | None:
    """Decode the google.rpc.Status the upstream attached, if any."""
    for key, value in trailing_metadata or ():  # (key, value) pairs
        if key == STATUS_DETAILS_KEY and isinstance(value, bytes):
            try:
                return status_pb2.Status.FromString(value)
            except Exception:
                return None
    return None


def error_from_rpc(
    code: grpc.StatusCode | None,
    message: str | None,
    trailing_metadata: Iterable[Any] | None,
    *,
    token_presented: bool = False,
) -> ErrorResponse:
    """The HTTP error for a failed upstream call."""
    resolved = code or grpc.StatusCode.UNKNOWN
    status = status_from_trailers(trailing_metadata)
    details: list[Any] = list(status.details) if status is not None else []
    text = message or (status.message if status is not None else "") or resolved.name
    response = ErrorResponse(
        http_status=http_status_for(resolved),
        status=resolved.name,
        message=text,
        details=[render_detail(detail) for detail in details],
    )
    _add_status_headers(response, resolved, details, token_presented=token_presented)
    return response


def retry_after_seconds(details: Iterable[Any]) -> int | None:
    """Whole seconds from a RetryInfo detail (rounded up, at least 1)."""
    for detail in details:
        info: error_details_pb2.RetryInfo | None = None
        if isinstance(detail, error_details_pb2.RetryInfo):
            info = detail
        elif isinstance(detail, any_pb2.Any) and detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            info = error_details_pb2.RetryInfo()
            detail.Unpack(info)
        if info is not None and info.HasField("retry_delay"):
            delay: float = float(info.retry_delay.seconds) + info.retry_delay.nanos / 1e9
            return max(1, math.ceil(delay))
    return None


def www_authenticate(*, token_presented: bool) -> str:
    if token_presented:
        return WWW_AUTHENTICATE_REALM + ', error="invalid_token"'
    return WWW_AUTHENTICATE_REALM


def _add_status_headers(
    response: ErrorResponse,
    code: grpc.StatusCode,
    details: Sequence[Any],
    *,
    token_presented: bool,
) -> None:
    if code is grpc.StatusCode.UNAUTHENTICATED:
        response.headers["WWW-Authenticate"] = www_authenticate(token_presented=token_presented)
    if code in (grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.UNAVAILABLE):
        seconds = retry_after_seconds(details)
        if seconds is not None:
            response.headers["Retry-After"] = str(seconds)
