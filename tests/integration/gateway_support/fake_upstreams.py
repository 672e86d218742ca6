"""Upstream servicers for the gateway tests, built on the generated servicers.

They fail on request with any gRPC status code and a google.rpc.Status
carrying ErrorInfo (and BadRequest / RetryInfo where those fit), record the
metadata they receive, and stream server-streaming replies.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, NoReturn

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from tripsage.assistant.v1 import assistant_service_pb2 as assistant_pb
from tripsage.assistant.v1 import assistant_service_pb2_grpc as assistant_grpc
from tripsage.auth.v1 import auth_service_pb2 as auth_pb
from tripsage.auth.v1 import auth_service_pb2_grpc as auth_grpc

TEST_DOMAIN = "tripsage.test"
RETRY_AFTER_SECONDS = 7
SLEEP_MARKER = "SLEEP"

if TYPE_CHECKING:
    Context = grpc.aio.ServicerContext[object, object]


def rich_status(code: grpc.StatusCode, message: str) -> grpc.Status:
    """A grpc.Status carrying ErrorInfo (+ BadRequest / RetryInfo where they fit)."""
    details: list[object] = [
        error_details_pb2.ErrorInfo(
            reason=code.name, domain=TEST_DOMAIN, metadata={"code": code.name}
        )
    ]
    if code is grpc.StatusCode.INVALID_ARGUMENT:
        details.append(
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(
                        field="email", description="must be an email address"
                    )
                ]
            )
        )
    if code is grpc.StatusCode.RESOURCE_EXHAUSTED:
        details.append(
            error_details_pb2.RetryInfo(
                retry_delay=duration_pb2.Duration(seconds=RETRY_AFTER_SECONDS - 1, nanos=5)
            )
        )
    status = status_pb2.Status(code=code.value[0], message=message)
    for detail in details:
        packed = any_pb2.Any()
        packed.Pack(detail)  # type: ignore[arg-type]
        status.details.append(packed)
    return rpc_status.to_status(status)


async def abort(context: Context, code_name: str, message: str) -> NoReturn:
    await context.abort_with_status(rich_status(grpc.StatusCode[code_name], message))
    raise AssertionError("unreachable")


class RecordingAuthServicer(auth_grpc.AuthServiceServicer):
    """Login fails with the status code named in ``email``; others record metadata."""

    def __init__(self) -> None:
        self.received: list[dict[str, str]] = []

    def _record(self, context: Context) -> None:
        metadata = context.invocation_metadata() or ()
        self.received.append({item.key: str(item.value) for item in metadata})

    async def Login(self, request: auth_pb.LoginRequest, context: Context) -> auth_pb.LoginResponse:
        self._record(context)
        if request.email == SLEEP_MARKER:
            await asyncio.sleep(5)
        elif request.email in grpc.StatusCode.__members__ and request.email != "OK":
            await abort(context, request.email, request.password)
        return auth_pb.LoginResponse(
            user=auth_pb.User(id="u1", email=request.email), access_token="token"
        )

    async def GetCurrentUser(
        self,
        request: auth_pb.GetCurrentUserRequest,
        context: Context,
    ) -> auth_pb.GetCurrentUserResponse:
        self._record(context)
        return auth_pb.GetCurrentUserResponse(user=auth_pb.User(id="u1", full_name="Ana"))


class StreamingAssistantServicer(assistant_grpc.AssistantServiceServicer):
    """StreamMessage: ``count:N`` streams N deltas; ``fail:CODE`` fails upfront;
    ``fail-after:N:CODE`` streams N deltas, then fails."""

    async def StreamMessage(
        self,
        request: assistant_pb.StreamMessageRequest,
        context: Context,
    ) -> AsyncIterator[assistant_pb.StreamMessageResponse]:
        kind, _, rest = request.content.partition(":")
        if kind == "fail":
            await abort(context, rest, f"refused {request.conversation_id}")
        count_text, _, code = rest.partition(":")
        for index in range(1, int(count_text) + 1):
            yield assistant_pb.StreamMessageResponse(
                sequence=index,
                text_delta=assistant_pb.TextDelta(message_id="m1", text=f"part {index}"),
            )
        if kind == "fail-after":
            await abort(context, code, "the turn failed")
