"""A service told to stop while a chat answer is streaming (issue 15): health turns
NOT_SERVING at once, new calls are refused with 503, and the answer in flight streams to
its end and is stored whole before the service exits. `GrpcService.stop` is what the
service's SIGTERM handler runs (tests/integration/test_health_and_shutdown.py sends the
signal to a real process)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import grpc
import httpx
import pytest
import pytest_asyncio
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.support.accounts import register
from tests.support.fake_openai import FakeOpenAI
from tests.support.http_server import serve_asgi
from tests.support.suite import BUILDERS, RunningSuite, make_settings, wait_serving
from tripsage.assistant.v1 import assistant_service_pb2 as pb
from tripsage.assistant.v1 import assistant_service_pb2_grpc as pb_grpc
from tripsage_core.grpc_kit.server import GrpcService

pytestmark = [pytest.mark.database, pytest.mark.faults]

GRACE_SECONDS = 15.0  # the answer takes about 3 s


async def _health(address: str) -> str:
    """The service's overall health status, or the code of the failed check."""
    async with grpc.aio.insecure_channel(address) as channel:
        try:
            reply = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=2
            )
        except grpc.aio.AioRpcError as error:
            return error.code().name
    return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)


@pytest_asyncio.fixture(loop_scope="session")
async def model_url() -> AsyncIterator[str]:
    async with serve_asgi(FakeOpenAI().app()) as url:
        yield f"{url}/v1"


async def test_a_streaming_answer_in_flight_completes_while_the_service_drains(
    database_dsn: str, redis_url: str, tmp_path: object, model_url: str
) -> None:
    settings = make_settings(
        database_dsn,
        redis_url,
        tmp_path,  # type: ignore[arg-type]
        openai_base_url=model_url,
        openai_api_key="sk-test-drain-0123456789abcdef",
        openai_model="fake-model-1",
    )
    running = RunningSuite(settings)
    assistant = GrpcService(await BUILDERS["assistant"](settings), grace_seconds=GRACE_SECONDS)
    try:
        for name in ("auth", "trips", "travel"):
            await running.start_service(name)
        port = await assistant.start(0, host="127.0.0.1")
        settings.assistant_service_addr = f"127.0.0.1:{port}"
        gateway = await running.start_gateway()
        ana = await register(running.address("auth"), "drain")
        async with httpx.AsyncClient(base_url=gateway, headers=ana.headers, timeout=30) as http:
            made = await http.post("/api/v1/conversations", json={"title": "Drain"})
            conversation = made.json()["conversation"]["id"]
            events = []
            stopping: asyncio.Task[None] | None = None
            async with http.stream(
                "POST",
                f"/api/v1/conversations/{conversation}/messages:stream",
                json={"content": "an unhurried answer please"},
                headers={"accept": "application/x-ndjson"},
            ) as response:
                assert response.status_code == 200
                async for line in response.aiter_lines():
                    if not line.strip():
                        continue
                    events.append(json.loads(line))
                    if stopping is None and "textDelta" in line:
                        stopping = asyncio.create_task(assistant.stop())
                        await asyncio.sleep(0.2)
                        # New calls are refused from now on (new connections too, so the
                        # orchestrator's probe fails), while the stream goes on.
                        assert await _health(settings.assistant_service_addr) in {
                            "NOT_SERVING",
                            "UNAVAILABLE",
                        }
                        refused = await http.get("/api/v1/conversations")
                        assert refused.status_code == 503, refused.text
            assert stopping is not None, "the answer ended before the first word"
            await asyncio.wait_for(stopping, timeout=GRACE_SECONDS + 5)
        final = events[-1]["message"]
        assert final["content"].split() == [f"step{n}" for n in range(10)]
        assert final["status"] == "MESSAGE_STATUS_COMPLETE"
        assert not any("error" in event for event in events)

        # Stored whole: a new assistant on the same database reads it back.
        again = GrpcService(await BUILDERS["assistant"](settings), grace_seconds=1)
        port = await again.start(0, host="127.0.0.1")
        try:
            await wait_serving(f"127.0.0.1:{port}")
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                stored = await pb_grpc.AssistantServiceStub(channel).ListMessages(
                    pb.ListMessagesRequest(conversation_id=conversation), metadata=ana.metadata
                )
        finally:
            await again.stop()
        assert stored.messages[-1].content == final["content"]
        assert stored.messages[-1].status == pb.MESSAGE_STATUS_COMPLETE
    finally:
        await running.stop()
        await assistant.stop()
