"""Domain errors map to gRPC statuses carrying ErrorInfo, field violations and retry hints."""

from __future__ import annotations

import grpc
import pytest
from google.rpc import code_pb2, error_details_pb2

from tripsage_core import errors
from tripsage_core.grpc_kit.status import status_code_for, to_rpc_status


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (errors.InvalidArgument("x"), grpc.StatusCode.INVALID_ARGUMENT),
        (errors.NotFound("x"), grpc.StatusCode.NOT_FOUND),
        (errors.AlreadyExists("x"), grpc.StatusCode.ALREADY_EXISTS),
        (errors.Unauthenticated("x"), grpc.StatusCode.UNAUTHENTICATED),
        (errors.PermissionDenied("x"), grpc.StatusCode.PERMISSION_DENIED),
        (errors.FailedPrecondition("x"), grpc.StatusCode.FAILED_PRECONDITION),
        (errors.Aborted("x"), grpc.StatusCode.ABORTED),
        (errors.ResourceExhausted("x"), grpc.StatusCode.RESOURCE_EXHAUSTED),
        (errors.Unavailable("x"), grpc.StatusCode.UNAVAILABLE),
        (errors.DomainError("x"), grpc.StatusCode.INTERNAL),
    ],
)
def test_each_domain_error_has_its_code(error: errors.DomainError, code: grpc.StatusCode) -> None:
    assert status_code_for(error) == code
    assert to_rpc_status(error).code == getattr(code_pb2, code.name)


def test_field_violations_and_error_info_travel_in_details() -> None:
    collected = errors.FieldErrors()
    collected.add("start_date", "must be a date")
    collected.add("title", "is required")
    with pytest.raises(errors.InvalidArgument) as caught:
        collected.raise_if_any()
    status = to_rpc_status(caught.value)
    info, bad = error_details_pb2.ErrorInfo(), error_details_pb2.BadRequest()
    assert status.details[0].Unpack(info)
    assert status.details[1].Unpack(bad)
    assert info.domain == "tripsage.app"
    assert info.reason == "INVALID_ARGUMENT"
    assert [(v.field, v.description) for v in bad.field_violations] == [
        ("start_date", "must be a date"),
        ("title", "is required"),
    ]


def test_retry_after_becomes_retry_info() -> None:
    status = to_rpc_status(errors.ResourceExhausted("slow down", retry_after_seconds=2.5))
    retry = error_details_pb2.RetryInfo()
    assert status.details[-1].Unpack(retry)
    assert retry.retry_delay.ToMilliseconds() == 2500


def test_a_status_that_echoes_huge_input_stays_within_the_metadata_budget() -> None:
    wide = "Лиссабон" * 2_500  # 40 kB of UTF-8
    collected = errors.FieldErrors()
    for index in range(100):
        collected.add(f"destinations[{index}].{wide}", f"no place called {wide}")
    with pytest.raises(errors.InvalidArgument) as caught:
        collected.raise_if_any()
    caught.value.metadata = {f"{n}{wide}": wide for n in range(50)}
    status = to_rpc_status(caught.value)
    assert len(status.SerializeToString()) < 4096
    assert status.message.startswith("destinations[0].")
    assert status.message.endswith("…")
    bad = error_details_pb2.BadRequest()
    status.details[1].Unpack(bad)
    assert len(bad.field_violations) == 9  # eight, then "and 92 more"
    assert bad.field_violations[-1].description == "and 92 more"
    assert bad.field_violations[0].description.startswith("no place called Лиссабон")
