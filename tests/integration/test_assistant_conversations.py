"""Conversations: create, get, list, rename, delete, over gRPC and through the gateway;
who may see a trip's conversations is the trip's sharing, and nobody else sees any."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import grpc
import httpx
import pytest
from google.protobuf import field_mask_pb2

from tests.support.accounts import Account, register
from tests.support.suite import RunningSuite
from tests.support.trips import Cast, code_of, create_trip
from tripsage.assistant.v1 import assistant_service_pb2 as pb
from tripsage.assistant.v1 import assistant_service_pb2_grpc as pb_grpc
from tripsage.trips.v1 import trip_service_pb2 as trips_pb
from tripsage.trips.v1 import trip_service_pb2_grpc as trips_grpc

pytestmark = pytest.mark.database

if TYPE_CHECKING:
    Stub = pb_grpc.AssistantServiceAsyncStub


@pytest.fixture
async def ana(suite: RunningSuite) -> Account:
    return await register(suite.address("auth"), "ana")


@pytest.fixture
async def ben(suite: RunningSuite) -> Account:
    return await register(suite.address("auth"), "ben")


@pytest.fixture
async def cast(suite: RunningSuite) -> Cast:
    return await Cast.register(suite)


async def start(assistant: Stub, who: Account, **fields: object) -> pb.Conversation:
    reply = await assistant.CreateConversation(
        pb.CreateConversationRequest(conversation=pb.Conversation(**fields)),  # type: ignore[arg-type]
        metadata=who.metadata,
    )
    return reply.conversation


async def test_the_owner_creates_reads_lists_renames_and_deletes(
    assistant: Stub, ana: Account
) -> None:
    first = await start(assistant, ana, title="Lisbon ideas")
    second = await start(assistant, ana)
    assert first.owner_id == ana.id
    assert first.title == "Lisbon ideas"
    assert first.message_count == 0
    assert not first.auto_approve
    got = await assistant.GetConversation(
        pb.GetConversationRequest(conversation_id=first.id), metadata=ana.metadata
    )
    assert got.conversation == first

    renamed = await assistant.UpdateConversation(
        pb.UpdateConversationRequest(
            conversation=pb.Conversation(id=first.id, title="Lisbon in May"),
            update_mask=field_mask_pb2.FieldMask(paths=["title"]),
        ),
        metadata=ana.metadata,
    )
    assert renamed.conversation.title == "Lisbon in May"
    assert not renamed.conversation.auto_approve

    # Most recently active first; a rename is not activity (no message was added).
    listed = await assistant.ListConversations(pb.ListConversationsRequest(), metadata=ana.metadata)
    assert [c.id for c in listed.conversations] == [second.id, first.id]
    assert listed.conversations[1].update_time == first.update_time

    await assistant.DeleteConversation(
        pb.DeleteConversationRequest(conversation_id=first.id), metadata=ana.metadata
    )
    assert (
        await code_of(
            assistant.GetConversation(
                pb.GetConversationRequest(conversation_id=first.id), metadata=ana.metadata
            )
        )
        == grpc.StatusCode.NOT_FOUND
    )
    listed = await assistant.ListConversations(pb.ListConversationsRequest(), metadata=ana.metadata)
    assert [c.id for c in listed.conversations] == [second.id]


async def test_pages_cover_every_conversation_once(assistant: Stub, ana: Account) -> None:
    made = {(await start(assistant, ana, title=f"n{i}")).id for i in range(5)}
    seen: list[str] = []
    token = ""
    while True:
        page = await assistant.ListConversations(
            pb.ListConversationsRequest(page_size=2, page_token=token), metadata=ana.metadata
        )
        seen += [c.id for c in page.conversations]
        token = page.next_page_token
        if not token:
            break
    assert sorted(seen) == sorted(made)
    assert len(seen) == len(made)


async def test_nobody_else_sees_or_changes_a_conversation(
    assistant: Stub, ana: Account, ben: Account
) -> None:
    mine = await start(assistant, ana, title="private")
    for call in (
        assistant.GetConversation(
            pb.GetConversationRequest(conversation_id=mine.id), metadata=ben.metadata
        ),
        assistant.UpdateConversation(
            pb.UpdateConversationRequest(conversation=pb.Conversation(id=mine.id, title="x")),
            metadata=ben.metadata,
        ),
        assistant.DeleteConversation(
            pb.DeleteConversationRequest(conversation_id=mine.id), metadata=ben.metadata
        ),
        assistant.ListMessages(
            pb.ListMessagesRequest(conversation_id=mine.id), metadata=ben.metadata
        ),
    ):
        assert await code_of(call) == grpc.StatusCode.NOT_FOUND
    listed = await assistant.ListConversations(pb.ListConversationsRequest(), metadata=ben.metadata)
    assert list(listed.conversations) == []
    still = await assistant.GetConversation(
        pb.GetConversationRequest(conversation_id=mine.id), metadata=ana.metadata
    )
    assert still.conversation.title == "private"


async def test_a_trips_conversations_follow_the_trips_sharing(
    assistant: Stub, trips: trips_grpc.TripServiceAsyncStub, cast: Cast
) -> None:
    trip = await cast.shared_trip(trips)
    talk = await start(assistant, cast.edit, title="what to do", trip_id=trip.id)
    assert talk.trip_id == trip.id
    assert talk.owner_id == cast.edit.id

    # Everyone on the trip reads it, in the trip's list too; the stranger sees nothing.
    for reader in (cast.owner, cast.view, cast.edit, cast.admin):
        got = await assistant.GetConversation(
            pb.GetConversationRequest(conversation_id=talk.id), metadata=reader.metadata
        )
        assert got.conversation.id == talk.id
        listed = await assistant.ListConversations(
            pb.ListConversationsRequest(trip_id=trip.id), metadata=reader.metadata
        )
        assert [c.id for c in listed.conversations] == [talk.id]
    assert (
        await code_of(
            assistant.GetConversation(
                pb.GetConversationRequest(conversation_id=talk.id), metadata=cast.stranger.metadata
            )
        )
        == grpc.StatusCode.NOT_FOUND
    )
    assert (
        await code_of(
            assistant.ListConversations(
                pb.ListConversationsRequest(trip_id=trip.id), metadata=cast.stranger.metadata
            )
        )
        == grpc.StatusCode.NOT_FOUND
    )

    # Editors write (rename); viewers may not, nor start one about the trip.
    renamed = await assistant.UpdateConversation(
        pb.UpdateConversationRequest(conversation=pb.Conversation(id=talk.id, title="days")),
        metadata=cast.owner.metadata,
    )
    assert renamed.conversation.title == "days"
    assert (
        await code_of(
            assistant.UpdateConversation(
                pb.UpdateConversationRequest(conversation=pb.Conversation(id=talk.id, title="no")),
                metadata=cast.view.metadata,
            )
        )
        == grpc.StatusCode.PERMISSION_DENIED
    )
    assert (
        await code_of(start(assistant, cast.view, trip_id=trip.id))
        == grpc.StatusCode.PERMISSION_DENIED
    )
    assert (
        await code_of(start(assistant, cast.stranger, trip_id=trip.id)) == grpc.StatusCode.NOT_FOUND
    )

    # Only its owner deletes it; members who may read it get NOT_FOUND for a delete.
    assert (
        await code_of(
            assistant.DeleteConversation(
                pb.DeleteConversationRequest(conversation_id=talk.id), metadata=cast.owner.metadata
            )
        )
        == grpc.StatusCode.NOT_FOUND
    )


async def test_leaving_the_trip_ends_writing_but_the_owner_keeps_reading(
    assistant: Stub, trips: trips_grpc.TripServiceAsyncStub, cast: Cast
) -> None:
    trip = await cast.shared_trip(trips)
    talk = await start(assistant, cast.edit, trip_id=trip.id)
    await trips.LeaveTrip(trips_pb.LeaveTripRequest(trip_id=trip.id), metadata=cast.edit.metadata)
    got = await assistant.GetConversation(
        pb.GetConversationRequest(conversation_id=talk.id), metadata=cast.edit.metadata
    )
    assert got.conversation.id == talk.id
    assert (
        await code_of(
            assistant.UpdateConversation(
                pb.UpdateConversationRequest(conversation=pb.Conversation(id=talk.id, title="x")),
                metadata=cast.edit.metadata,
            )
        )
        == grpc.StatusCode.PERMISSION_DENIED
    )


async def test_bad_input_names_the_field(assistant: Stub, ana: Account) -> None:
    cases = [
        (start(assistant, ana, title="x" * 201), "conversation.title"),
        (start(assistant, ana, trip_id="not-a-uuid"), "conversation.trip_id"),
        (
            assistant.GetConversation(
                pb.GetConversationRequest(conversation_id="nope"), metadata=ana.metadata
            ),
            "conversation_id",
        ),
        (
            assistant.ListConversations(
                pb.ListConversationsRequest(page_token="garbage"), metadata=ana.metadata
            ),
            "page_token",
        ),
        (
            assistant.UpdateConversation(
                pb.UpdateConversationRequest(
                    conversation=pb.Conversation(id=str(uuid.uuid4())),
                    update_mask=field_mask_pb2.FieldMask(paths=["owner_id"]),
                ),
                metadata=ana.metadata,
            ),
            "update_mask",
        ),
    ]
    for call, field in cases:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await call
        assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert field in (raised.value.details() or "")
    # An unknown trip reads as not found, like someone else's.
    assert (
        await code_of(start(assistant, ana, trip_id=str(uuid.uuid4()))) == grpc.StatusCode.NOT_FOUND
    )


async def test_an_idempotency_key_creates_once(assistant: Stub, ana: Account) -> None:
    metadata = (*ana.metadata, ("idempotency-key", "talk-1"))
    request = pb.CreateConversationRequest(conversation=pb.Conversation(title="once"))
    first = await assistant.CreateConversation(request, metadata=metadata)
    again = await assistant.CreateConversation(request, metadata=metadata)
    assert again.conversation.id == first.conversation.id
    listed = await assistant.ListConversations(pb.ListConversationsRequest(), metadata=ana.metadata)
    assert [c.id for c in listed.conversations] == [first.conversation.id]


async def test_through_the_gateway(
    http: httpx.AsyncClient, trips: trips_grpc.TripServiceAsyncStub, ana: Account, ben: Account
) -> None:
    trip = await create_trip(trips, ana)
    made = await http.post(
        "/api/v1/conversations",
        json={"title": "Lisbon", "tripId": trip.id, "autoApprove": True},
        headers=ana.headers,
    )
    assert made.status_code == 201, made.text
    talk = made.json()["conversation"]
    assert talk["tripId"] == trip.id
    assert talk["autoApprove"] is True

    renamed = await http.patch(
        f"/api/v1/conversations/{talk['id']}?updateMask=title",
        json={"title": "Lisbon, four days"},
        headers=ana.headers,
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["conversation"]["title"] == "Lisbon, four days"

    listed = await http.get(f"/api/v1/conversations?tripId={trip.id}", headers=ana.headers)
    assert [c["id"] for c in listed.json()["conversations"]] == [talk["id"]]
    messages = await http.get(f"/api/v1/conversations/{talk['id']}/messages", headers=ana.headers)
    assert messages.status_code == 200
    assert messages.json().get("messages", []) == []

    hidden = await http.get(f"/api/v1/conversations/{talk['id']}", headers=ben.headers)
    assert hidden.status_code == 404
    bad = await http.post("/api/v1/conversations", json={"title": "x" * 300}, headers=ana.headers)
    assert bad.status_code == 400
    assert "conversation.title" in bad.text

    gone = await http.delete(f"/api/v1/conversations/{talk['id']}", headers=ana.headers)
    assert gone.status_code == 200
    after = await http.get(f"/api/v1/conversations/{talk['id']}", headers=ana.headers)
    assert after.status_code == 404
