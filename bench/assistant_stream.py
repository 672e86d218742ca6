"""The assistant's stream, end to end: how soon the traveller sees something, and what the
suite adds on top of the model server's own first token.

Starts the suite with the launcher (embedded PostgreSQL and Valkey unless POSTGRES_URL /
REDIS_URL are set) with OPENAI_BASE_URL pointed at a local OpenAI-compatible server run
by this script, whose first token leaves `--first-token-ms` after each request arrives
(a model's thinking time). The server and the clients share this process's monotonic
clock, so for every streamed turn the script knows when the model server sent its first
token and when the client received it. For `--turns` sequential turns, over gRPC
(StreamMessage) and through the gateway (server-sent events), it prints the median and
p95 of:

- first event: the request sent -> the first event received (the stored user message);
- first text: the request sent -> the first text delta received;
- overhead: the model server's first token sent -> that text received by the client
  (what the assistant, the gateway and their hops add);

and the same first-event and first-text figures for the offline assistant (no model),
which a second suite without OPENAI_BASE_URL serves. Not a test; figures depend on the
machine.

    uv run python bench/assistant_stream.py [--turns 40] [--first-token-ms 150]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from read_path import start_suite  # noqa: E402

from tripsage.assistant.v1 import assistant_service_pb2 as pb  # noqa: E402
from tripsage.assistant.v1 import assistant_service_pb2_grpc as pb_grpc  # noqa: E402


class ModelServer:
    """Streams a short answer; remembers when each request's first token left."""

    def __init__(self, first_token_ms: float) -> None:
        self.delay = first_token_ms / 1000
        self.first_token_sent: list[float] = []

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v1/chat/completions", self.chat, methods=["POST"])])

    async def chat(self, request: Request) -> StreamingResponse:
        await request.json()
        return StreamingResponse(self._answer(), media_type="text/event-stream")

    async def _answer(self) -> AsyncIterator[bytes]:
        await asyncio.sleep(self.delay)
        for n, word in enumerate(("Lisbon ", "in ", "May ", "is ", "lovely.")):
            chunk = {
                "id": "b", "object": "chat.completion.chunk", "created": 0, "model": "bench",
                "choices": [{"index": 0, "delta": {"content": word}, "finish_reason": None}],
            }  # fmt: skip
            if n == 0:
                self.first_token_sent.append(time.monotonic())
            yield f"data: {json.dumps(chunk)}\n\n".encode()
        yield b"data: [DONE]\n\n"


def serve_in_thread(app: Starlette) -> tuple[uvicorn.Server, int]:
    """The model server on its own thread and loop, so the suite's launcher (which runs
    its own event loops) and the clients stay in the main thread."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False))
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    while not server.started:
        time.sleep(0.01)
    return server, sock.getsockname()[1]


async def sign_up(gateway_port: int) -> str:
    """A new traveller's access token, registered as a client would: through the gateway."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{gateway_port}", timeout=60) as http:
        registered = await http.post(
            "/api/v1/auth/register",
            json={
                "email": f"stream-{os.getpid()}-{time.monotonic_ns()}@example.com",
                "password": "correct horse battery staple",
                "fullName": "Bench Traveller",
            },
        )
        registered.raise_for_status()
    return str(registered.json()["accessToken"])


async def over_grpc(
    address: str, token: str, turns: int, text: str
) -> list[tuple[float, float, float]]:
    """(sent, first event, first text) per turn, monotonic seconds."""
    metadata = (("authorization", f"Bearer {token}"),)
    out = []
    async with grpc.aio.insecure_channel(address) as channel:
        stub = pb_grpc.AssistantServiceStub(channel)
        made = await stub.CreateConversation(
            pb.CreateConversationRequest(conversation=pb.Conversation()), metadata=metadata
        )
        for _ in range(turns):
            sent = time.monotonic()
            first = first_text = 0.0
            async for event in stub.StreamMessage(
                pb.StreamMessageRequest(conversation_id=made.conversation.id, content=text),
                metadata=metadata,
            ):
                now = time.monotonic()
                first = first or now
                if event.WhichOneof("event") == "text_delta" and not first_text:
                    first_text = now
            out.append((sent, first, first_text))
    return out


async def over_sse(
    gateway_port: int, token: str, turns: int, text: str
) -> list[tuple[float, float, float]]:
    headers = {"authorization": f"Bearer {token}"}
    out = []
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{gateway_port}", timeout=60) as http:
        made = await http.post("/api/v1/conversations", json={}, headers=headers)
        conversation = made.json()["conversation"]["id"]
        for _ in range(turns):
            sent = time.monotonic()
            first = first_text = 0.0
            async with http.stream(
                "POST",
                f"/api/v1/conversations/{conversation}/messages:stream",
                json={"content": text},
                headers=headers,
            ) as response:
                async for line in response.aiter_lines():
                    if not line.startswith("data: "):
                        continue
                    now = time.monotonic()
                    first = first or now
                    if '"textDelta"' in line and not first_text:
                        first_text = now
            out.append((sent, first, first_text))
    return out


def stats(values: list[float]) -> str:
    ms = sorted(v * 1000 for v in values)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return f"median {statistics.median(ms):7.1f} ms   p95 {p95:7.1f} ms"


def report(label: str, runs: list[tuple[float, float, float]], tokens: list[float]) -> None:
    print(f"{label}")
    print(f"  first event   {stats([first - sent for sent, first, _ in runs])}")
    print(f"  first text    {stats([text - sent for sent, _, text in runs])}")
    if tokens:
        overhead = [text - token for (_, _, text), token in zip(runs, tokens, strict=True)]
        print(f"  overhead      {stats(overhead)}   (over the model server's first token)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--turns", type=int, default=40)
    parser.add_argument("--first-token-ms", type=float, default=150.0)
    args = parser.parse_args()

    model = ModelServer(args.first_token_ms)
    server, port = serve_in_thread(model.app())
    print(f"model server: first token after {args.first_token_ms:g} ms; {args.turns} turns")
    with tempfile.TemporaryDirectory(prefix="tripsage-bench-") as tmp:
        log = open(Path(tmp) / "suite.log", "wb")  # noqa: SIM115 (closed below)
        url = f"http://127.0.0.1:{port}/v1"
        suite, addresses, gateway = start_suite(
            Path(tmp) / "live", log, OPENAI_BASE_URL=url, ASSISTANT_DAILY_MESSAGES="0"
        )
        try:
            asyncio.run(live(model, addresses, gateway, args.turns))
        finally:
            suite.stop()
        os.environ.pop("OPENAI_BASE_URL")
        suite, addresses, gateway = start_suite(
            Path(tmp) / "offline", log, ASSISTANT_DAILY_MESSAGES="0"
        )
        try:
            asyncio.run(offline(addresses, gateway, args.turns))
        finally:
            suite.stop()
            log.close()
    server.should_exit = True


async def live(model: ModelServer, addresses: dict[str, str], gateway: int, turns: int) -> None:
    token = await sign_up(gateway)
    await over_grpc(addresses["assistant"], token, 3, "hello")  # warm-up
    model.first_token_sent.clear()
    runs = await over_grpc(addresses["assistant"], token, turns, "hello")
    report("OpenAI-compatible model, gRPC StreamMessage", runs, list(model.first_token_sent))
    model.first_token_sent.clear()
    runs = await over_sse(gateway, token, turns, "hello")
    report("OpenAI-compatible model, gateway SSE", runs, list(model.first_token_sent))


async def offline(addresses: dict[str, str], gateway: int, turns: int) -> None:
    token = await sign_up(gateway)
    ask = "What's the weather in Lisbon?"
    await over_grpc(addresses["assistant"], token, 3, ask)
    label = "offline assistant (weather tool, sandbox)"
    report(
        f"{label}, gRPC StreamMessage",
        await over_grpc(addresses["assistant"], token, turns, ask),
        [],
    )
    report(f"{label}, gateway SSE", await over_sse(gateway, token, turns, ask), [])


if __name__ == "__main__":
    main()
