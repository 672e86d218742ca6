"""gateway/streaming.py on the assistant's chat stream: NDJSON on request, SSE without ids
for messages that have none, Last-Event-ID ignored where the RPC cannot resume, and an
upfront failure still a real HTTP status. (WatchTrip's side: test_trip_watch.py.)"""

from __future__ import annotations

import json

import httpx
import pytest

from tests.support.accounts import Account, register
from tests.support.suite import RunningSuite

pytestmark = pytest.mark.database


@pytest.fixture
async def ana(suite: RunningSuite) -> Account:
    return await register(suite.address("auth"), "ana")


async def conversation_of(http: httpx.AsyncClient, who: Account) -> str:
    made = await http.post("/api/v1/conversations", json={}, headers=who.headers)
    assert made.status_code == 201, made.text
    return str(made.json()["conversation"]["id"])


async def test_the_chat_stream_as_newline_delimited_json(
    http: httpx.AsyncClient, ana: Account
) -> None:
    conversation = await conversation_of(http, ana)
    lines = []
    async with http.stream(
        "POST",
        f"/api/v1/conversations/{conversation}/messages:stream",
        json={"content": "hotels in Seville"},
        headers={**ana.headers, "accept": "application/x-ndjson", "last-event-id": "7"},
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/x-ndjson")
        assert response.headers["cache-control"] == "no-store"  # a signed-in answer
        async for line in response.aiter_lines():
            if line.strip():
                lines.append(json.loads(line))
    assert "userMessage" in lines[0]
    assert lines[-1]["message"]["content"].startswith("Stays I found:")
    assert not any("error" in line for line in lines)


async def test_sse_without_event_ids_and_upfront_errors(
    http: httpx.AsyncClient, ana: Account
) -> None:
    conversation = await conversation_of(http, ana)
    raw = []
    async with http.stream(
        "POST",
        f"/api/v1/conversations/{conversation}/messages:stream",
        json={"content": "weather in Seville"},
        headers=ana.headers,
    ) as response:
        assert response.status_code == 200
        async for line in response.aiter_lines():
            raw.append(line)
    assert any(line.startswith("data: ") for line in raw)
    # Chat events have no event_id field: no id lines.
    assert not any(line.startswith("id:") for line in raw)
    # Before the stream starts, a failure is an HTTP status with the JSON error body.
    async with http.stream(
        "POST",
        "/api/v1/conversations/00000000-0000-0000-0000-000000000000/messages:stream",
        json={"content": "hello"},
        headers={**ana.headers, "accept": "application/x-ndjson"},
    ) as missing:
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith("application/json")
        assert json.loads(await missing.aread())["error"]["status"] == "NOT_FOUND"
