"""AssistantService over gRPC: proto in, domain call, proto out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from google.protobuf import json_format, struct_pb2
from grpc import aio

from services.assistant.conversations import ConversationDraft, Conversations
from services.assistant.convert import (
    category_from_proto,
    conversation_to_proto,
    memory_to_proto,
    message_to_proto,
)
from services.assistant.memories import MemoryBook, MemoryFilter, NewMemory
from services.assistant.model import MemoryCategory
from services.assistant.trip_planning import TripPlanning
from services.assistant.turns import (
    ApprovalNeeded,
    Completed,
    Decision,
    Delta,
    Started,
    ToolFinished,
    ToolStarted,
    TurnEvent,
    Turns,
    UserStored,
)
from tripsage.assistant.v1 import assistant_service_pb2 as pb
from tripsage.assistant.v1 import assistant_service_pb2_grpc as pb_grpc
from tripsage_core.errors import DomainError, InvalidArgument
from tripsage_core.grpc_kit.access import current_caller
from tripsage_core.grpc_kit.metadata import idempotency_key
from tripsage_core.grpc_kit.replies import page_reply
from tripsage_core.grpc_kit.status import to_rpc_status

Context = aio.ServicerContext[Any, Any]
_UPDATABLE = {"title", "auto_approve"}


class AssistantServicer(pb_grpc.AssistantServiceServicer):
    def __init__(
        self,
        conversations: Conversations,
        memories: MemoryBook,
        turns: Turns,
        planning: TripPlanning,
    ) -> None:
        self.conversations = conversations
        self.memories = memories
        self.turns = turns
        self.planning = planning

    # Conversations

    async def CreateConversation(
        self, request: pb.CreateConversationRequest, context: Context
    ) -> pb.CreateConversationResponse:
        attempt = idempotency_key(context, "CreateConversation", request)
        given = request.conversation
        draft = ConversationDraft(
            title=given.title, trip_id=given.trip_id, auto_approve=given.auto_approve
        )
        created = await self.conversations.create(current_caller(), draft, attempt)
        return pb.CreateConversationResponse(conversation=conversation_to_proto(created))

    async def GetConversation(
        self, request: pb.GetConversationRequest, context: Context
    ) -> pb.GetConversationResponse:
        found = await self.conversations.get(current_caller(), request.conversation_id)
        return pb.GetConversationResponse(conversation=conversation_to_proto(found))

    async def ListConversations(
        self, request: pb.ListConversationsRequest, context: Context
    ) -> pb.ListConversationsResponse:
        page = await self.conversations.list(
            current_caller(),
            trip_id=request.trip_id,
            page_size=request.page_size,
            page_token=request.page_token,
        )
        return page_reply(
            pb.ListConversationsResponse, "conversations", page, conversation_to_proto
        )

    async def UpdateConversation(
        self, request: pb.UpdateConversationRequest, context: Context
    ) -> pb.UpdateConversationResponse:
        fields = set(request.update_mask.paths) or _UPDATABLE
        unknown = sorted(fields - _UPDATABLE)
        if unknown:
            raise InvalidArgument.for_field(
                "update_mask", f"cannot change {', '.join(unknown)}; only title and auto_approve"
            )
        given = request.conversation
        updated = await self.conversations.update(
            current_caller(),
            given.id,
            title=given.title if "title" in fields else None,
            auto_approve=given.auto_approve if "auto_approve" in fields else None,
        )
        return pb.UpdateConversationResponse(conversation=conversation_to_proto(updated))

    async def DeleteConversation(
        self, request: pb.DeleteConversationRequest, context: Context
    ) -> pb.DeleteConversationResponse:
        await self.conversations.delete(current_caller(), request.conversation_id)
        return pb.DeleteConversationResponse()

    async def ListMessages(
        self, request: pb.ListMessagesRequest, context: Context
    ) -> pb.ListMessagesResponse:
        page = await self.conversations.messages(
            current_caller(),
            request.conversation_id,
            page_size=request.page_size,
            page_token=request.page_token,
        )
        return page_reply(pb.ListMessagesResponse, "messages", page, message_to_proto)

    # The chat

    async def SendMessage(
        self, request: pb.SendMessageRequest, context: Context
    ) -> pb.SendMessageResponse:
        done = await _completed(
            self.turns.run(current_caller(), request.conversation_id, request.content)
        )
        return pb.SendMessageResponse(
            message=message_to_proto(done.message),
            turn_messages=[message_to_proto(m) for m in done.turn],
        )

    async def ApproveToolCall(
        self, request: pb.ApproveToolCallRequest, context: Context
    ) -> pb.ApproveToolCallResponse:
        done = await _completed(
            self.turns.decide(
                current_caller(),
                request.conversation_id,
                request.tool_call_id,
                Decision(approve=True),
            )
        )
        return pb.ApproveToolCallResponse(
            message=message_to_proto(done.message),
            turn_messages=[message_to_proto(m) for m in done.turn],
        )

    async def RejectToolCall(
        self, request: pb.RejectToolCallRequest, context: Context
    ) -> pb.RejectToolCallResponse:
        done = await _completed(
            self.turns.decide(
                current_caller(),
                request.conversation_id,
                request.tool_call_id,
                Decision(approve=False, reason=request.reason),
            )
        )
        return pb.RejectToolCallResponse(
            message=message_to_proto(done.message),
            turn_messages=[message_to_proto(m) for m in done.turn],
        )

    async def StreamMessage(
        self, request: pb.StreamMessageRequest, context: Context
    ) -> AsyncIterator[pb.StreamMessageResponse]:
        sequence = 0

        def numbered(**event: Any) -> pb.StreamMessageResponse:
            nonlocal sequence
            sequence += 1
            return pb.StreamMessageResponse(sequence=sequence, **event)

        turn = self.turns.run(current_caller(), request.conversation_id, request.content)
        try:
            first = await anext(turn)  # errors before the turn starts fail the call itself
        except StopAsyncIteration:
            return
        assert isinstance(first, UserStored)
        yield numbered(user_message=message_to_proto(first.message))
        try:
            async for event in turn:
                if isinstance(event, Started):
                    yield numbered(message_started=pb.MessageStarted(message_id=event.message_id))
                elif isinstance(event, Delta):
                    yield numbered(
                        text_delta=pb.TextDelta(message_id=event.message_id, text=event.text)
                    )
                elif isinstance(event, ToolStarted):
                    yield numbered(tool_call=_tool_call(event))
                elif isinstance(event, ToolFinished):
                    yield numbered(tool_result=_tool_result(event))
                elif isinstance(event, ApprovalNeeded):
                    yield numbered(
                        approval_required=pb.ApprovalRequired(
                            message_id=event.message_id,
                            tool_call=_tool_call(event),
                            description=event.description,
                        )
                    )
                elif isinstance(event, Completed):
                    yield numbered(message=message_to_proto(event.message))
        except DomainError as error:
            # The turn had started: the failure is the stream's last event.
            yield numbered(error=to_rpc_status(error))

    # Plans

    async def PlanTrip(self, request: pb.PlanTripRequest, context: Context) -> pb.PlanTripResponse:
        return await self.planning.plan(current_caller(), request, datetime.now(UTC).date())

    # Memories

    async def ListMemories(
        self, request: pb.ListMemoriesRequest, context: Context
    ) -> pb.ListMemoriesResponse:
        filters = MemoryFilter(query=request.query, category=category_from_proto(request.category))
        page = await self.memories.list(
            current_caller(), filters, page_size=request.page_size, page_token=request.page_token
        )
        return page_reply(pb.ListMemoriesResponse, "memories", page, memory_to_proto)

    async def CreateMemory(
        self, request: pb.CreateMemoryRequest, context: Context
    ) -> pb.CreateMemoryResponse:
        category = category_from_proto(request.memory.category) or MemoryCategory.FACT
        memory = await self.memories.remember(
            current_caller(), NewMemory(request.memory.content, category)
        )
        return pb.CreateMemoryResponse(memory=memory_to_proto(memory))

    async def DeleteMemory(
        self, request: pb.DeleteMemoryRequest, context: Context
    ) -> pb.DeleteMemoryResponse:
        await self.memories.forget(current_caller(), request.memory_id)
        return pb.DeleteMemoryResponse()

    async def ClearMemories(
        self, request: pb.ClearMemoriesRequest, context: Context
    ) -> pb.ClearMemoriesResponse:
        return pb.ClearMemoriesResponse(
            deleted_count=await self.memories.forget_all(current_caller())
        )


def _struct(value: dict[str, Any]) -> struct_pb2.Struct:
    return json_format.ParseDict(value, struct_pb2.Struct())


async def _completed(turn: AsyncIterator[TurnEvent]) -> Completed:
    async for event in turn:
        if isinstance(event, Completed):
            return event
    raise AssertionError("a turn always ends with its final message")


def _tool_call(event: ToolStarted | ApprovalNeeded) -> pb.ToolCall:
    call = event.call
    return pb.ToolCall(id=call.id, name=call.name, arguments=_struct(call.arguments))


def _tool_result(event: ToolFinished) -> pb.ToolResult:
    return message_to_proto(event.message).tool_result
