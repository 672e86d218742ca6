"""The assistant's records <-> the contract's messages."""

from __future__ import annotations

from google.protobuf import json_format, struct_pb2

from services.assistant import model
from tripsage.assistant.v1 import assistant_service_pb2 as pb
from tripsage_core.proto_fields import message_from

_CATEGORY = {
    model.MemoryCategory.PREFERENCE: pb.MEMORY_CATEGORY_PREFERENCE,
    model.MemoryCategory.FACT: pb.MEMORY_CATEGORY_FACT,
    model.MemoryCategory.EXPERIENCE: pb.MEMORY_CATEGORY_EXPERIENCE,
}
_CATEGORY_OF = {number: word for word, number in _CATEGORY.items()}
_STATUS = {
    model.MessageStatus.COMPLETE: pb.MESSAGE_STATUS_COMPLETE,
    model.MessageStatus.PARTIAL: pb.MESSAGE_STATUS_PARTIAL,
    model.MessageStatus.FAILED: pb.MESSAGE_STATUS_FAILED,
    model.MessageStatus.AWAITING_APPROVAL: pb.MESSAGE_STATUS_AWAITING_APPROVAL,
}
_APPROVAL = {
    model.ToolApproval.NOT_NEEDED: pb.TOOL_APPROVAL_NOT_NEEDED,
    model.ToolApproval.PENDING: pb.TOOL_APPROVAL_PENDING,
    model.ToolApproval.APPROVED: pb.TOOL_APPROVAL_APPROVED,
    model.ToolApproval.AUTO_APPROVED: pb.TOOL_APPROVAL_AUTO_APPROVED,
    model.ToolApproval.REJECTED: pb.TOOL_APPROVAL_REJECTED,
}
_ROLE = {
    model.MessageRole.USER: pb.MESSAGE_ROLE_USER,
    model.MessageRole.ASSISTANT: pb.MESSAGE_ROLE_ASSISTANT,
    model.MessageRole.TOOL: pb.MESSAGE_ROLE_TOOL,
}


def category_from_proto(value: int) -> model.MemoryCategory | None:
    """None for MEMORY_CATEGORY_UNSPECIFIED (unknown numbers are refused before this)."""
    return _CATEGORY_OF.get(value)  # type: ignore[call-overload,no-any-return]


def conversation_to_proto(conversation: model.Conversation) -> pb.Conversation:
    return message_from(pb.Conversation, conversation)


def _struct(value: dict[str, object] | None) -> struct_pb2.Struct | None:
    if value is None:
        return None
    return json_format.ParseDict(value, struct_pb2.Struct())


def message_to_proto(message: model.Message) -> pb.Message:
    proto = message_from(
        pb.Message,
        message,
        role=_ROLE[message.role],
        status=_STATUS[message.status],
        usage=pb.TokenUsage(
            input_tokens=message.usage.get("input_tokens", 0),
            output_tokens=message.usage.get("output_tokens", 0),
        ),
    )
    for call in message.tool_calls:
        proto.tool_calls.append(
            pb.ToolCall(
                id=str(call.get("id", "")),
                name=str(call.get("name", "")),
                arguments=_struct(call.get("arguments") or {}),
            )
        )
    if message.tool_result is not None:
        result = message.tool_result
        proto.tool_result.CopyFrom(
            pb.ToolResult(
                tool_call_id=str(result.get("tool_call_id", "")),
                name=str(result.get("name", "")),
                result=_struct(result.get("result") or {}),
                error=str(result.get("error", "")),
                summary=str(result.get("summary", "")),
                approval=_APPROVAL.get(
                    model.ToolApproval(result.get("approval", model.ToolApproval.NOT_NEEDED)),
                    pb.TOOL_APPROVAL_NOT_NEEDED,
                ),
            )
        )
        proto.tool_result.duration.FromNanoseconds(int(float(result.get("seconds", 0)) * 1e9))
    return proto


def memory_to_proto(memory: model.Memory) -> pb.Memory:
    return message_from(pb.Memory, memory, category=_CATEGORY[memory.category])
