"""The assistant's records <-> the contract's messages."""

from __future__ import annotations

from google.protobuf import json_format, struct_pb2

from services.assistant.model import (
    Conversation,
    Memory,
    MemoryCategory,
    Message,
    MessageRole,
    MessageStatus,
    ToolApproval,
)
from tripsage.assistant.v1 import assistant_service_pb2 as pb
from tripsage_core.proto_fields import message_from

_CATEGORY = {
    MemoryCategory.PREFERENCE: pb.MEMORY_CATEGORY_PREFERENCE,
    MemoryCategory.FACT: pb.MEMORY_CATEGORY_FACT,
    MemoryCategory.EXPERIENCE: pb.MEMORY_CATEGORY_EXPERIENCE,
}
_CATEGORY_OF = {number: word for word, number in _CATEGORY.items()}
_STATUS = {
    MessageStatus.COMPLETE: pb.MESSAGE_STATUS_COMPLETE,
    MessageStatus.PARTIAL: pb.MESSAGE_STATUS_PARTIAL,
    MessageStatus.FAILED: pb.MESSAGE_STATUS_FAILED,
    MessageStatus.AWAITING_APPROVAL: pb.MESSAGE_STATUS_AWAITING_APPROVAL,
}
_APPROVAL = {
    ToolApproval.NOT_NEEDED: pb.TOOL_APPROVAL_NOT_NEEDED,
    ToolApproval.PENDING: pb.TOOL_APPROVAL_PENDING,
    ToolApproval.APPROVED: pb.TOOL_APPROVAL_APPROVED,
    ToolApproval.AUTO_APPROVED: pb.TOOL_APPROVAL_AUTO_APPROVED,
    ToolApproval.REJECTED: pb.TOOL_APPROVAL_REJECTED,
}
_ROLE = {
    MessageRole.USER: pb.MESSAGE_ROLE_USER,
    MessageRole.ASSISTANT: pb.MESSAGE_ROLE_ASSISTANT,
    MessageRole.TOOL: pb.MESSAGE_ROLE_TOOL,
}


def category_from_proto(value: int) -> MemoryCategory | None:
    """None for MEMORY_CATEGORY_UNSPECIFIED (unknown numbers are refused before this)."""
    return _CATEGORY_OF.get(value)  # type: ignore[call-overload,no-any-return]


def conversation_to_proto(conversation: Conversation) -> pb.Conversation:
    return message_from(pb.Conversation, conversation)


def _struct(value: dict[str, object] | None) -> struct_pb2.Struct | None:
    if value is None:
        return None
    return json_format.ParseDict(value, struct_pb2.Struct())


def message_to_proto(message: Message) -> pb.Message:
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
                    ToolApproval(result.get("approval", ToolApproval.NOT_NEEDED)),
                    pb.TOOL_APPROVAL_NOT_NEEDED,
                ),
            )
        )
        proto.tool_result.duration.FromNanoseconds(int(float(result.get("seconds", 0)) * 1e9))
    return proto


def memory_to_proto(memory: Memory) -> pb.Memory:
    return message_from(
        pb.Memory,
        memory,
        category=_CATEGORY[memory.category],
    )
