"""Memories: told, listed newest first, searched best match first, filtered, deleted and
cleared by their user alone, over gRPC and through the gateway."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import grpc
import httpx
import pytest

from tests.support.accounts import Account, register
from tests.support.suite import RunningSuite
from tests.support.trips import code_of
from tripsage.assistant.v1 import assistant_service_pb2 as pb

if TYPE_CHECKING:
    from tripsage.assistant.v1.assistant_service_pb2_grpc import AssistantServiceAsyncStub as Stub

pytestmark = pytest.mark.database


@pytest.fixture
async def ana(suite: RunningSuite) -> Account:
    return await register(suite.address("auth"), "ana")


@pytest.fixture
async def ben(suite: RunningSuite) -> Account:
    return await register(suite.address("auth"), "ben")


async def tell(assistant: Stub, who: Account, content: str, category: int = 0) -> pb.Memory:
    reply = await assistant.CreateMemory(
        pb.CreateMemoryRequest(memory=pb.Memory(content=content, category=category)),  # type: ignore[arg-type]
        metadata=who.metadata,
    )
    return reply.memory


async def listed(assistant: Stub, who: Account, **fields: object) -> list[str]:
    reply = await assistant.ListMemories(
        pb.ListMemoriesRequest(**fields),  # type: ignore[arg-type]
        metadata=who.metadata,
    )
    return [m.content for m in reply.memories]


async def test_told_listed_searched_and_forgotten(assistant: Stub, ana: Account) -> None:
    veg = await tell(assistant, ana, "I'm vegetarian", pb.MEMORY_CATEGORY_FACT)
    await tell(assistant, ana, "Prefers aisle seats on long flights", pb.MEMORY_CATEGORY_PREFERENCE)
    await tell(assistant, ana, "Loved Kyoto in 2024", pb.MEMORY_CATEGORY_EXPERIENCE)
    assert veg.category == pb.MEMORY_CATEGORY_FACT
    assert veg.id
    assert veg.create_time.seconds > 0

    assert await listed(assistant, ana) == [
        "Loved Kyoto in 2024",
        "Prefers aisle seats on long flights",
        "I'm vegetarian",
    ]
    # Full-text search: word forms match ("flight" finds "flights"); best match first.
    assert await listed(assistant, ana, query="flight seats") == [
        "Prefers aisle seats on long flights"
    ]
    assert await listed(assistant, ana, query="submarine") == []
    assert await listed(assistant, ana, category=pb.MEMORY_CATEGORY_EXPERIENCE) == [
        "Loved Kyoto in 2024"
    ]

    # The same statement again is the memory already kept.
    again = await tell(assistant, ana, "i'm  VEGETARIAN")
    assert again.id == veg.id

    await assistant.DeleteMemory(pb.DeleteMemoryRequest(memory_id=veg.id), metadata=ana.metadata)
    assert "I'm vegetarian" not in await listed(assistant, ana)
    assert (
        await code_of(
            assistant.DeleteMemory(pb.DeleteMemoryRequest(memory_id=veg.id), metadata=ana.metadata)
        )
        == grpc.StatusCode.NOT_FOUND
    )
    cleared = await assistant.ClearMemories(pb.ClearMemoriesRequest(), metadata=ana.metadata)
    assert cleared.deleted_count == 2
    assert await listed(assistant, ana) == []


async def test_pages_of_a_search_and_of_the_newest(assistant: Stub, ana: Account) -> None:
    for n in range(5):
        await tell(assistant, ana, f"likes museum number {n} " + "museum " * n)
    for query in ("", "museum"):
        seen: list[str] = []
        token = ""
        while True:
            page = await assistant.ListMemories(
                pb.ListMemoriesRequest(page_size=2, page_token=token, query=query),
                metadata=ana.metadata,
            )
            seen += [m.id for m in page.memories]
            token = page.next_page_token
            if not token:
                break
        assert len(seen) == len(set(seen)) == 5, query


async def test_memories_are_their_users_alone(assistant: Stub, ana: Account, ben: Account) -> None:
    secret = await tell(assistant, ana, "Allergic to peanuts")
    assert await listed(assistant, ben) == []
    assert await listed(assistant, ben, query="peanuts") == []
    assert (
        await code_of(
            assistant.DeleteMemory(
                pb.DeleteMemoryRequest(memory_id=secret.id), metadata=ben.metadata
            )
        )
        == grpc.StatusCode.NOT_FOUND
    )
    cleared = await assistant.ClearMemories(pb.ClearMemoriesRequest(), metadata=ben.metadata)
    assert cleared.deleted_count == 0
    assert await listed(assistant, ana) == ["Allergic to peanuts"]


async def test_bad_input_names_the_field(assistant: Stub, ana: Account) -> None:
    for call, field in (
        (tell(assistant, ana, "   "), "memory.content"),
        (tell(assistant, ana, "x" * 1001), "memory.content"),
        (
            assistant.ListMemories(pb.ListMemoriesRequest(query="q" * 201), metadata=ana.metadata),
            "query",
        ),
        (
            assistant.DeleteMemory(pb.DeleteMemoryRequest(memory_id="nope"), metadata=ana.metadata),
            "memory_id",
        ),
        (
            assistant.ListMemories(
                pb.ListMemoriesRequest(page_token="forged"), metadata=ana.metadata
            ),
            "page_token",
        ),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await call
        assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert field in (raised.value.details() or "")
    # Search syntax is the user's words: operators and quotes are never a 500.
    assert await listed(assistant, ana, query='"unclosed -or OR & | !') == []
    assert (
        await code_of(
            assistant.DeleteMemory(
                pb.DeleteMemoryRequest(memory_id=str(uuid.uuid4())), metadata=ana.metadata
            )
        )
        == grpc.StatusCode.NOT_FOUND
    )


async def test_through_the_gateway(http: httpx.AsyncClient, ana: Account, ben: Account) -> None:
    made = await http.post(
        "/api/v1/users/me/memories",
        json={"content": "Travels with a toddler", "category": "MEMORY_CATEGORY_FACT"},
        headers=ana.headers,
    )
    assert made.status_code == 201, made.text
    memory = made.json()["memory"]
    assert memory["category"] == "MEMORY_CATEGORY_FACT"
    found = await http.get("/api/v1/users/me/memories?query=toddler", headers=ana.headers)
    assert [m["id"] for m in found.json()["memories"]] == [memory["id"]]
    theirs = await http.get("/api/v1/users/me/memories", headers=ben.headers)
    assert theirs.json().get("memories", []) == []
    bad = await http.post("/api/v1/users/me/memories", json={"content": ""}, headers=ana.headers)
    assert bad.status_code == 400
    assert "memory.content" in bad.text
    gone = await http.delete(f"/api/v1/users/me/memories/{memory['id']}", headers=ana.headers)
    assert gone.status_code == 200
    cleared = await http.post("/api/v1/users/me/memories:clear", json={}, headers=ana.headers)
    assert cleared.status_code == 200
