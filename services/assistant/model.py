"""The assistant's records: conversations, their messages, and what it remembers. No transport."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class TripAccess(StrEnum):
    """What the trips service lets a caller do with a conversation's trip."""

    VIEW = "view"
    EDIT = "edit"


@dataclass(frozen=True)
class Conversation:
    id: str
    owner_id: str
    trip_id: str | None
    title: str
    auto_approve: bool
    message_count: int
    created_at: datetime
    updated_at: datetime


class MemoryCategory(StrEnum):
    PREFERENCE = "preference"
    FACT = "fact"
    EXPERIENCE = "experience"


class MessageRole(StrEnum):
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"


class MessageStatus(StrEnum):
    COMPLETE = "complete"
    PARTIAL = "partial"  # cut short: the client went away, or a limit was reached
    FAILED = "failed"
    AWAITING_APPROVAL = "awaiting_approval"  # its tool calls propose changes to approve


class ToolApproval(StrEnum):
    NOT_NEEDED = "not_needed"
    PENDING = "pending"
    APPROVED = "approved"
    AUTO_APPROVED = "auto_approved"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Message:
    id: str
    conversation_id: str
    role: MessageRole
    content: str
    created_at: datetime
    seq: int
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    tool_result: dict[str, Any] | None = None
    status: MessageStatus = MessageStatus.COMPLETE
    usage: dict[str, int] = field(default_factory=dict)  # input_tokens, output_tokens


@dataclass(frozen=True)
class Memory:
    id: str
    user_id: str
    content: str
    category: MemoryCategory
    conversation_id: str | None
    created_at: datetime
    updated_at: datetime
