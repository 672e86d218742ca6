"""The one place that turns domain errors into gRPC statuses (AIP-193).

A status travels in trailing metadata (grpc-message percent-encoded, the
google.rpc.Status base64-encoded), which gRPC caps at 16 KiB and warns from 8 KiB;
a message that repeats a 20 kB input would kill the stream instead of reporting the
error. So every text is clipped here, for every error of every service, to keep the
whole status under 4 KiB (about 6 KiB once encoded).
"""

from __future__ import annotations

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.protobuf.message import Message
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from tripsage_core import errors

_CODES: dict[type[errors.DomainError], grpc.StatusCode] = {
    errors.InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    errors.NotFound: grpc.StatusCode.NOT_FOUND,
    errors.AlreadyExists: grpc.StatusCode.ALREADY_EXISTS,
    errors.Unauthenticated: grpc.StatusCode.UNAUTHENTICATED,
    errors.PermissionDenied: grpc.StatusCode.PERMISSION_DENIED,
    errors.FailedPrecondition: grpc.StatusCode.FAILED_PRECONDITION,
    errors.Aborted: grpc.StatusCode.ABORTED,
    errors.ResourceExhausted: grpc.StatusCode.RESOURCE_EXHAUSTED,
    errors.Unavailable: grpc.StatusCode.UNAVAILABLE,
}


def status_code_for(error: errors.DomainError) -> grpc.StatusCode:
    for cls in type(error).__mro__:
        if cls in _CODES:
            return _CODES[cls]
    return grpc.StatusCode.INTERNAL


# Limits in UTF-8 bytes, before encoding.
MAX_MESSAGE_BYTES = 384
MAX_FIELD_BYTES = 96
MAX_DESCRIPTION_BYTES = 160
MAX_VIOLATIONS = 8
MAX_METADATA_ENTRIES = 5
MAX_METADATA_KEY_BYTES = 48
MAX_METADATA_VALUE_BYTES = 96
_ELLIPSIS = "…"


def clip(text: str, limit: int) -> str:
    """`text`, cut to at most `limit` UTF-8 bytes (ending with an ellipsis when cut)."""
    encoded = text.encode()
    if len(encoded) <= limit:
        return text
    room = limit - len(_ELLIPSIS.encode())
    return encoded[:room].decode(errors="ignore") + _ELLIPSIS


def _violations(error: errors.InvalidArgument) -> list[error_details_pb2.BadRequest.FieldViolation]:
    shown = [
        error_details_pb2.BadRequest.FieldViolation(
            field=clip(v.field, MAX_FIELD_BYTES),
            description=clip(v.description, MAX_DESCRIPTION_BYTES),
        )
        for v in error.violations[:MAX_VIOLATIONS]
    ]
    if len(error.violations) > MAX_VIOLATIONS:
        shown.append(
            error_details_pb2.BadRequest.FieldViolation(
                field="", description=f"and {len(error.violations) - MAX_VIOLATIONS} more"
            )
        )
    return shown


def _pack(message: Message) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def to_rpc_status(error: errors.DomainError) -> status_pb2.Status:
    code = status_code_for(error)
    details = [
        _pack(
            error_details_pb2.ErrorInfo(
                reason=error.reason,
                domain=errors.ERROR_DOMAIN,
                metadata={
                    clip(key, MAX_METADATA_KEY_BYTES): clip(value, MAX_METADATA_VALUE_BYTES)
                    for key, value in list(error.metadata.items())[:MAX_METADATA_ENTRIES]
                },
            )
        )
    ]
    if isinstance(error, errors.InvalidArgument) and error.violations:
        details.append(_pack(error_details_pb2.BadRequest(field_violations=_violations(error))))
    if isinstance(error, errors.RetryLater) and error.retry_after_seconds is not None:
        delay = duration_pb2.Duration()
        delay.FromMilliseconds(int(error.retry_after_seconds * 1000))
        details.append(_pack(error_details_pb2.RetryInfo(retry_delay=delay)))
    return status_pb2.Status(
        code=getattr(code_pb2, code.name),
        message=clip(error.message, MAX_MESSAGE_BYTES),
        details=details,
    )


def to_grpc_status(error: errors.DomainError) -> grpc.Status:
    return rpc_status.to_status(to_rpc_status(error))
