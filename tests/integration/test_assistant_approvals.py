"""Changes to trips wait for the user's approval: the assistant proposes (the stream says
"approval required"), nothing changes until ApproveToolCall, RejectToolCall refuses,
a conversation may auto-approve, and a new message leaves undecided changes unrun.
With the offline assistant, over gRPC and the gateway."""

from __future__ import annotations

from typing import TYPE_CHECKING

import grpc
import httpx
import pytest

from tests.support.accounts import Account, register
from tests.support.assistant import talk
from tests.support.suite import RunningSuite
from tests.support.trips import Cast, code_of
from tripsage.assistant.v1 import assistant_service_pb2 as pb
from tripsage.trips.v1 import trip_service_pb2 as trips_pb
from tripsage.trips.v1 import trip_service_pb2_grpc as trips_grpc

if TYPE_CHECKING:
    from tripsage.assistant.v1.assistant_service_pb2_grpc import AssistantServiceAsyncStub as Stub

pytestmark = pytest.mark.database

ASK = "Create a trip to Lisbon from 2027-05-01 to 2027-05-04"


@pytest.fixture
async def ana(suite: RunningSuite) -> Account:
    return await register(suite.address("auth"), "ana")


async def titles(trips: trips_grpc.TripServiceAsyncStub, who: Account) -> list[str]:
    listed = await trips.ListTrips(trips_pb.ListTripsRequest(), metadata=who.metadata)
    return [t.title for t in listed.trips]


async def propose(assistant: Stub, who: Account, conversation: str) -> pb.SendMessageResponse:
    return await assistant.SendMessage(
        pb.SendMessageRequest(conversation_id=conversation, content=ASK), metadata=who.metadata
    )


async def test_a_change_waits_for_approval_then_runs_as_the_user(
    assistant: Stub, trips: trips_grpc.TripServiceAsyncStub, ana: Account
) -> None:
    conversation = await talk(assistant, ana)
    proposed = await propose(assistant, ana, conversation)
    assert proposed.message.status == pb.MESSAGE_STATUS_AWAITING_APPROVAL
    (call,) = proposed.message.tool_calls
    assert call.name == "create_trip"
    assert call.arguments["trip"]["startDate"] == "2027-05-01"
    waiting = proposed.turn_messages[-1]
    assert waiting.role == pb.MESSAGE_ROLE_TOOL
    assert waiting.tool_result.approval == pb.TOOL_APPROVAL_PENDING
    assert waiting.content == "waiting for approval: create the trip 'Lisbon trip'"
    assert await titles(trips, ana) == []  # nothing changed yet

    approved = await assistant.ApproveToolCall(
        pb.ApproveToolCallRequest(conversation_id=conversation, tool_call_id=call.id),
        metadata=ana.metadata,
    )
    assert await titles(trips, ana) == ["Lisbon trip"]
    result = approved.turn_messages[0].tool_result
    assert result.approval == pb.TOOL_APPROVAL_APPROVED
    assert result.result["trip"]["title"] == "Lisbon trip"
    assert approved.message.content.startswith("Done: I created the trip 'Lisbon trip'")
    assert approved.message.status == pb.MESSAGE_STATUS_COMPLETE
    stored = await assistant.ListMessages(
        pb.ListMessagesRequest(conversation_id=conversation), metadata=ana.metadata
    )
    statuses = [m.status for m in stored.messages if m.role == pb.MESSAGE_ROLE_ASSISTANT]
    assert pb.MESSAGE_STATUS_AWAITING_APPROVAL not in statuses

    again = assistant.ApproveToolCall(
        pb.ApproveToolCallRequest(conversation_id=conversation, tool_call_id=call.id),
        metadata=ana.metadata,
    )
    assert await code_of(again) == grpc.StatusCode.FAILED_PRECONDITION
    assert await titles(trips, ana) == ["Lisbon trip"]  # ran exactly once


async def test_a_rejected_change_never_runs(
    assistant: Stub, trips: trips_grpc.TripServiceAsyncStub, ana: Account
) -> None:
    conversation = await talk(assistant, ana)
    call = (await propose(assistant, ana, conversation)).message.tool_calls[0]
    rejected = await assistant.RejectToolCall(
        pb.RejectToolCallRequest(
            conversation_id=conversation, tool_call_id=call.id, reason="not yet"
        ),
        metadata=ana.metadata,
    )
    result = rejected.turn_messages[0].tool_result
    assert result.approval == pb.TOOL_APPROVAL_REJECTED
    assert result.error == "the user rejected this change: not yet"
    assert rejected.message.content == "All right: I changed nothing."
    assert await titles(trips, ana) == []


async def test_an_auto_approving_conversation_runs_changes_at_once(
    assistant: Stub, trips: trips_grpc.TripServiceAsyncStub, ana: Account
) -> None:
    conversation = await talk(assistant, ana, auto_approve=True)
    reply = await propose(assistant, ana, conversation)
    assert reply.message.status == pb.MESSAGE_STATUS_COMPLETE
    tool = next(m for m in reply.turn_messages if m.role == pb.MESSAGE_ROLE_TOOL)
    assert tool.tool_result.approval == pb.TOOL_APPROVAL_AUTO_APPROVED
    assert await titles(trips, ana) == ["Lisbon trip"]


async def test_the_stream_says_approval_required_and_leaving_changes_nothing(
    assistant: Stub, trips: trips_grpc.TripServiceAsyncStub, ana: Account
) -> None:
    conversation = await talk(assistant, ana)
    events = [
        e
        async for e in assistant.StreamMessage(
            pb.StreamMessageRequest(conversation_id=conversation, content=ASK),
            metadata=ana.metadata,
        )
    ]
    kinds = [e.WhichOneof("event") for e in events]
    assert kinds == ["user_message", "message_started", "approval_required", "message"]
    required = events[2].approval_required
    assert required.tool_call.name == "create_trip"
    assert required.description == "create the trip 'Lisbon trip'"
    assert required.message_id == events[-1].message.id
    assert events[-1].message.status == pb.MESSAGE_STATUS_AWAITING_APPROVAL
    # The client is gone and never decided: nothing ran.
    assert await titles(trips, ana) == []


async def test_a_new_message_leaves_an_undecided_change_unrun(
    assistant: Stub, trips: trips_grpc.TripServiceAsyncStub, ana: Account
) -> None:
    conversation = await talk(assistant, ana)
    call = (await propose(assistant, ana, conversation)).message.tool_calls[0]
    await assistant.SendMessage(
        pb.SendMessageRequest(conversation_id=conversation, content="weather in Lisbon"),
        metadata=ana.metadata,
    )
    late = assistant.ApproveToolCall(
        pb.ApproveToolCallRequest(conversation_id=conversation, tool_call_id=call.id),
        metadata=ana.metadata,
    )
    assert await code_of(late) == grpc.StatusCode.FAILED_PRECONDITION
    stored = await assistant.ListMessages(
        pb.ListMessagesRequest(conversation_id=conversation), metadata=ana.metadata
    )
    dropped = next(m for m in stored.messages if m.tool_result.tool_call_id == call.id)
    assert dropped.tool_result.approval == pb.TOOL_APPROVAL_REJECTED
    assert await titles(trips, ana) == []


async def test_only_those_who_may_write_decide(
    assistant: Stub, trips: trips_grpc.TripServiceAsyncStub, suite: RunningSuite
) -> None:
    cast = await Cast.register(suite)
    trip = await cast.shared_trip(trips)
    conversation = await talk(assistant, cast.owner, trip_id=trip.id)
    call = (await propose(assistant, cast.owner, conversation)).message.tool_calls[0]

    def approve(who: Account) -> object:
        return assistant.ApproveToolCall(
            pb.ApproveToolCallRequest(conversation_id=conversation, tool_call_id=call.id),
            metadata=who.metadata,
        )

    assert await code_of(approve(cast.stranger)) == grpc.StatusCode.NOT_FOUND
    assert await code_of(approve(cast.view)) == grpc.StatusCode.PERMISSION_DENIED
    # An editor may decide; the change runs as the editor (the trip is theirs to create).
    approved = await approve(cast.edit)
    assert approved.turn_messages[0].tool_result.approval == pb.TOOL_APPROVAL_APPROVED  # type: ignore[attr-defined]
    assert "Lisbon trip" in await titles(trips, cast.edit)


async def test_deciding_through_the_gateway_and_bad_input(
    http: httpx.AsyncClient, ana: Account, assistant: Stub
) -> None:
    conversation = await talk(assistant, ana)
    call = (await propose(assistant, ana, conversation)).message.tool_calls[0]
    base = f"/api/v1/conversations/{conversation}/tool-calls"
    long = await http.post(
        f"{base}/{call.id}:reject", json={"reason": "x" * 501}, headers=ana.headers
    )
    assert long.status_code == 400
    assert "reason" in long.text
    huge = await http.post(f"{base}/{'c' * 201}:approve", json={}, headers=ana.headers)
    assert huge.status_code == 400
    assert "tool_call_id" in huge.text
    unknown = await http.post(f"{base}/call_nope:approve", json={}, headers=ana.headers)
    assert unknown.status_code == 400
    assert "NOTHING_TO_DECIDE" in unknown.text
    approved = await http.post(f"{base}/{call.id}:approve", json={}, headers=ana.headers)
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert body["turnMessages"][0]["toolResult"]["approval"] == "TOOL_APPROVAL_APPROVED"
    assert body["message"]["content"].startswith("Done: I created the trip")
    nobody = await http.post(f"{base}/{call.id}:approve", json={})
    assert nobody.status_code == 401
