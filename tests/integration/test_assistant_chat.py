"""The chat turn with the offline assistant: it calls the travel and memory tools as the
user, answers from their results, streams typed events over gRPC and as server-sent
events through the gateway, and stores every message of the turn."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import grpc
import httpx
import pytest

from tests.support.accounts import Account, register
from tests.support.assistant import talk
from tests.support.suite import RunningSuite
from tests.support.trips import Cast, code_of
from tripsage.assistant.v1 import assistant_service_pb2 as pb
from tripsage.trips.v1 import trip_service_pb2_grpc as trips_grpc

if TYPE_CHECKING:
    from tripsage.assistant.v1.assistant_service_pb2_grpc import AssistantServiceAsyncStub as Stub

pytestmark = pytest.mark.database

SOON = (datetime.now(UTC).date() + timedelta(days=30)).isoformat()


@pytest.fixture
async def ana(suite: RunningSuite) -> Account:
    return await register(suite.address("auth"), "ana")


async def send(
    assistant: Stub, who: Account, conversation: str, text: str
) -> pb.SendMessageResponse:
    return await assistant.SendMessage(
        pb.SendMessageRequest(conversation_id=conversation, content=text), metadata=who.metadata
    )


async def test_a_weather_question_calls_the_tool_and_answers_from_it(
    assistant: Stub, ana: Account
) -> None:
    conversation = await talk(assistant, ana)
    reply = await send(assistant, ana, conversation, "What's the weather in Lisbon?")
    roles = [m.role for m in reply.turn_messages]
    assert roles == [
        pb.MESSAGE_ROLE_USER,
        pb.MESSAGE_ROLE_ASSISTANT,
        pb.MESSAGE_ROLE_TOOL,
        pb.MESSAGE_ROLE_ASSISTANT,
    ]
    asked = reply.turn_messages[1].tool_calls
    assert [c.name for c in asked] == ["get_weather"]
    assert asked[0].arguments["place"] == "Lisbon"
    result = reply.turn_messages[2].tool_result
    assert result.name == "get_weather"
    assert not result.error
    assert result.result["place"]
    assert "days of weather" in result.summary
    assert reply.message.content.startswith("Weather for")
    assert "°C" in reply.message.content
    assert "sandbox" in reply.message.content  # sandbox data says so
    assert reply.message.status == pb.MESSAGE_STATUS_COMPLETE
    assert reply.message == reply.turn_messages[-1]

    stored = await assistant.ListMessages(
        pb.ListMessagesRequest(conversation_id=conversation), metadata=ana.metadata
    )
    assert list(stored.messages) == list(reply.turn_messages)
    got = await assistant.GetConversation(
        pb.GetConversationRequest(conversation_id=conversation), metadata=ana.metadata
    )
    assert got.conversation.message_count == 4
    assert got.conversation.title == "What's the weather in Lisbon?"


async def test_the_stream_emits_typed_events_in_order(assistant: Stub, ana: Account) -> None:
    conversation = await talk(assistant, ana)
    events = [
        event
        async for event in assistant.StreamMessage(
            pb.StreamMessageRequest(conversation_id=conversation, content="museums in Porto"),
            metadata=ana.metadata,
        )
    ]
    kinds = [e.WhichOneof("event") for e in events]
    assert kinds[:4] == ["user_message", "message_started", "tool_call", "tool_result"]
    assert kinds[4] == "message_started"
    assert set(kinds[5:-1]) == {"text_delta"}
    assert kinds[-1] == "message"
    assert [e.sequence for e in events] == list(range(1, len(events) + 1))
    assert events[2].tool_call.name == "search_places"
    assert events[2].tool_call.arguments["query"] == "museums in Porto"
    assert events[3].tool_result.tool_call_id == events[2].tool_call.id
    assert events[3].tool_result.duration.ToNanoseconds() > 0
    final = events[-1].message
    assert final.id == events[4].message_started.message_id
    assert "".join(e.text_delta.text for e in events[5:-1]) == final.content
    assert final.content.startswith("Places I found:")


async def test_statements_about_the_user_are_remembered(assistant: Stub, ana: Account) -> None:
    conversation = await talk(assistant, ana)
    reply = await send(assistant, ana, conversation, "I'm vegetarian")
    assert "I'll remember that: I'm vegetarian" in reply.message.content
    memories = await assistant.ListMemories(pb.ListMemoriesRequest(), metadata=ana.metadata)
    assert [m.content for m in memories.memories] == ["I'm vegetarian"]
    recalled = await send(assistant, ana, conversation, "What do you remember about me?")
    assert "- I'm vegetarian" in recalled.message.content


async def test_a_flight_request_finds_the_airports_first(assistant: Stub, ana: Account) -> None:
    conversation = await talk(assistant, ana)
    reply = await send(
        assistant, ana, conversation, f"Find flights from London to Lisbon on {SOON}"
    )
    called = [c.name for m in reply.turn_messages for c in m.tool_calls]
    assert called == ["list_airports", "list_airports", "search_flights"]
    flights = next(
        m.tool_calls[0]
        for m in reply.turn_messages
        if m.tool_calls and m.tool_calls[0].name == "search_flights"
    )
    leg = flights.arguments["slices"][0]
    assert leg["departureDate"] == SOON
    assert leg["origin"] == "LON"
    assert reply.message.content.startswith("Flights I found:")


async def test_what_it_does_not_understand_it_says(assistant: Stub, ana: Account) -> None:
    conversation = await talk(assistant, ana)
    reply = await send(assistant, ana, conversation, "Zorp the blevit, quickly")
    assert len(reply.turn_messages) == 2
    assert "didn't understand" in reply.message.content
    assert "weather in Lisbon" in reply.message.content


async def test_who_may_send_and_bad_input(
    assistant: Stub, trips: trips_grpc.TripServiceAsyncStub, suite: RunningSuite
) -> None:
    cast = await Cast.register(suite)
    trip = await cast.shared_trip(trips)
    conversation = await talk(assistant, cast.owner, trip_id=trip.id)
    editor = await send(assistant, cast.edit, conversation, "weather in Lisbon")
    assert editor.message.content.startswith("Weather for")
    assert (
        await code_of(send(assistant, cast.view, conversation, "weather in Lisbon"))
        == grpc.StatusCode.PERMISSION_DENIED
    )
    assert (
        await code_of(send(assistant, cast.stranger, conversation, "weather in Lisbon"))
        == grpc.StatusCode.NOT_FOUND
    )
    for text in ("", "   ", "x" * 8001):
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await send(assistant, cast.owner, conversation, text)
        assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "content" in (raised.value.details() or "")
    # A viewer still reads what was said.
    listed = await assistant.ListMessages(
        pb.ListMessagesRequest(conversation_id=conversation), metadata=cast.view.metadata
    )
    assert len(listed.messages) == 4


async def test_the_stream_as_server_sent_events(http: httpx.AsyncClient, ana: Account) -> None:
    made = await http.post("/api/v1/conversations", json={}, headers=ana.headers)
    conversation = made.json()["conversation"]["id"]
    events = []
    async with http.stream(
        "POST",
        f"/api/v1/conversations/{conversation}/messages:stream",
        json={"content": "hotels in Seville"},
        headers=ana.headers,
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line.removeprefix("data: ")))
    assert "userMessage" in events[0]
    calls = [e["toolCall"]["name"] for e in events if "toolCall" in e]
    assert calls == ["search_stays"]
    assert events[-1]["message"]["content"].startswith("Stays I found:")
    unary = await http.post(
        f"/api/v1/conversations/{conversation}/messages",
        json={"content": "weather in Seville"},
        headers=ana.headers,
    )
    assert unary.status_code == 200
    assert unary.json()["message"]["content"].startswith("Weather for")
