"""Memories on Mem0's platform: with MEM0_API_KEY (or a user's own Mem0 key) the memory
RPCs and the assistant's remember/recall tools go to Mem0's REST API, here a local
server that speaks it (tests/support/fake_mem0.py); each user sees only their own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import grpc
import httpx
import pytest
import pytest_asyncio

from tests.support.accounts import Account, register
from tests.support.fake_mem0 import FakeMem0
from tests.support.http_server import serve_asgi
from tests.support.suite import RunningSuite, make_settings, whole_suite
from tests.support.trips import code_of
from tripsage.assistant.v1 import assistant_service_pb2 as pb
from tripsage.auth.v1 import auth_service_pb2 as auth_pb
from tripsage.auth.v1 import auth_service_pb2_grpc as auth_grpc

if TYPE_CHECKING:
    from tripsage.assistant.v1.assistant_service_pb2_grpc import AssistantServiceAsyncStub as Stub

pytestmark = pytest.mark.database

SERVER_KEY = "m0-test-server-key-0123456789abcdef"
USER_KEY = "m0-test-users-own-key-0123456789abcdef"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def fake() -> AsyncIterator[tuple[FakeMem0, str]]:
    mem0 = FakeMem0()
    async with serve_asgi(mem0.app()) as url:
        yield mem0, url


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def suite(
    database_dsn: str,
    redis_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    fake: tuple[FakeMem0, str],
) -> AsyncIterator[RunningSuite]:
    settings = make_settings(
        database_dsn,
        redis_url,
        tmp_path_factory.mktemp("data"),
        mem0_api_key=SERVER_KEY,
        mem0_api_url=fake[1],
    )
    async with whole_suite(settings) as running:
        yield running


@pytest.fixture
def mem0(fake: tuple[FakeMem0, str]) -> FakeMem0:
    return fake[0]


@pytest.fixture
async def ana(suite: RunningSuite) -> Account:
    return await register(suite.address("auth"), "ana")


async def tell(assistant: Stub, who: Account, content: str, **fields: object) -> pb.Memory:
    told = await assistant.CreateMemory(
        pb.CreateMemoryRequest(memory=pb.Memory(content=content, **fields)),  # type: ignore[arg-type]
        metadata=who.metadata,
    )
    return told.memory


async def contents(assistant: Stub, who: Account, query: str = "") -> list[str]:
    found = await assistant.ListMemories(pb.ListMemoriesRequest(query=query), metadata=who.metadata)
    return [m.content for m in found.memories]


async def test_memories_live_on_mem0_for_their_user_only(
    assistant: Stub, ana: Account, suite: RunningSuite, mem0: FakeMem0
) -> None:
    told = await tell(
        assistant, ana, "  I prefer   aisle seats ", category=pb.MEMORY_CATEGORY_PREFERENCE
    )
    assert told.content == "I prefer aisle seats"
    assert told.category == pb.MEMORY_CATEGORY_PREFERENCE
    kept = mem0.projects[SERVER_KEY][told.id]
    assert kept["user_id"] == ana.id
    assert kept["infer"] is False
    assert kept["metadata"]["category"] == "preference"
    again = await tell(assistant, ana, "i prefer aisle seats")
    assert again.id == told.id  # the same statement is the memory already kept
    await tell(assistant, ana, "I am vegetarian")
    assert sorted(await contents(assistant, ana)) == ["I am vegetarian", "I prefer aisle seats"]
    assert await contents(assistant, ana, "aisle") == ["I prefer aisle seats"]

    ben = await register(suite.address("auth"), "ben")
    assert await contents(assistant, ben) == []
    assert await contents(assistant, ben, "aisle") == []
    stolen = assistant.DeleteMemory(
        pb.DeleteMemoryRequest(memory_id=told.id), metadata=ben.metadata
    )
    assert await code_of(stolen) == grpc.StatusCode.NOT_FOUND
    assert told.id in mem0.projects[SERVER_KEY]

    await assistant.DeleteMemory(pb.DeleteMemoryRequest(memory_id=told.id), metadata=ana.metadata)
    assert await contents(assistant, ana) == ["I am vegetarian"]
    cleared = await assistant.ClearMemories(pb.ClearMemoriesRequest(), metadata=ana.metadata)
    assert cleared.deleted_count == 1
    assert await contents(assistant, ana) == []


async def test_the_assistant_remembers_and_recalls_through_mem0(
    assistant: Stub, ana: Account, mem0: FakeMem0
) -> None:
    talk = await assistant.CreateConversation(
        pb.CreateConversationRequest(conversation=pb.Conversation()), metadata=ana.metadata
    )
    conversation = talk.conversation.id
    said = await assistant.SendMessage(
        pb.SendMessageRequest(conversation_id=conversation, content="I'm vegan"),
        metadata=ana.metadata,
    )
    assert "I'll remember that: I'm vegan" in said.message.content
    assert [m["memory"] for m in mem0.projects[SERVER_KEY].values() if m["user_id"] == ana.id] == [
        "I'm vegan"
    ]
    recalled = await assistant.SendMessage(
        pb.SendMessageRequest(
            conversation_id=conversation, content="What do you remember about me?"
        ),
        metadata=ana.metadata,
    )
    assert "- I'm vegan" in recalled.message.content


async def test_a_users_own_mem0_key_keeps_their_memories_in_their_account(
    assistant: Stub, suite: RunningSuite, mem0: FakeMem0
) -> None:
    cy = await register(suite.address("auth"), "cy")
    async with grpc.aio.insecure_channel(suite.address("auth")) as channel:
        await auth_grpc.AuthServiceStub(channel).PutProviderKey(
            auth_pb.PutProviderKeyRequest(service=auth_pb.PROVIDER_SERVICE_MEM0, api_key=USER_KEY),
            metadata=cy.metadata,
        )
    told = await tell(assistant, cy, "I travel with a wheelchair")
    assert told.id in mem0.projects[USER_KEY]
    assert told.id not in mem0.projects.get(SERVER_KEY, {})
    assert mem0.calls[-1][2] == USER_KEY


async def test_mem0_down_is_a_503_with_a_retry_hint(
    http: httpx.AsyncClient, ana: Account, mem0: FakeMem0
) -> None:
    mem0.down = True
    try:
        answer = await http.get("/api/v1/users/me/memories", headers=ana.headers)
    finally:
        mem0.down = False
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "5"
    assert "MEMORY_SERVICE_UNAVAILABLE" in answer.text
