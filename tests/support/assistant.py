"""What the assistant's tests do again and again: start a conversation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.support.accounts import Account
from tripsage.assistant.v1 import assistant_service_pb2 as pb

if TYPE_CHECKING:
    from tripsage.assistant.v1.assistant_service_pb2_grpc import AssistantServiceAsyncStub


async def talk(assistant: AssistantServiceAsyncStub, who: Account, **fields: object) -> str:
    """A new conversation of `who`'s (title, trip_id, auto_approve as given); its id."""
    reply = await assistant.CreateConversation(
        pb.CreateConversationRequest(conversation=pb.Conversation(**fields)),  # type: ignore[arg-type]
        metadata=who.metadata,
    )
    return reply.conversation.id
