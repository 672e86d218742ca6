"""A local server that speaks OpenAI's chat-completions API (POST /v1/chat/completions,
streamed as server-sent events of `chat.completion.chunk`s ending in `data: [DONE]`),
so the real `openai` client and our adapter run against it.

What it answers is scripted by a word in the latest user message:

- `parallel`: two get_weather calls in one answer, their arguments split over chunks;
  then, once the tool results are in, a text naming what each returned;
- `malformed`: a call whose arguments are cut-off JSON; once told the arguments were
  invalid, a correct call; then text;
- `refuse`: a refusal (the `refusal` delta);
- `busy`: 429 with Retry-After: 2, every time; `busy-once`: 429 with Retry-After: 1 the
  first time, then text;
- `drop`: some text, then the connection is dropped mid-stream;
- `slow`: a long answer one word every 0.2 s (cancellation tests); the server notes
  when its client went away;
- `unhurried`: ten words, one every 0.3 s (an answer still streaming when the service
  is told to stop, well within its grace period);
- `expensive`: text with 6000 tokens of usage;
- anything else: when the last message is a tool result, "The tool said: <its content>";
  else "Echo: <the message>".
POST /v1/embeddings answers vectors over a few travel concepts (food, seats, access,
children, pace), so that "vegetarian" lands near "I don't eat meat" although the two
share no word; `embeddings_down` makes it answer 503.
Every request is kept (body and authorization header) for the tests to read.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route


@dataclass
class FakeOpenAI:
    requests: list[dict[str, Any]] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    busy_once_seen: set[str] = field(default_factory=set)
    disconnected: asyncio.Event = field(default_factory=asyncio.Event)
    embedded: list[str] = field(default_factory=list)
    embeddings_down: bool = False

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/chat/completions", self.completions, methods=["POST"]),
                Route("/v1/embeddings", self.embeddings, methods=["POST"]),
            ]
        )

    async def embeddings(self, request: Request) -> Response:
        if self.embeddings_down:
            return JSONResponse({"error": {"message": "down"}}, status_code=503)
        body = await request.json()
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        self.embedded += texts
        data = [
            {"object": "embedding", "index": i, "embedding": _concepts(text)}
            for i, text in enumerate(texts)
        ]
        usage = {"prompt_tokens": len(texts), "total_tokens": len(texts)}
        return JSONResponse(
            {"object": "list", "data": data, "model": body["model"], "usage": usage}
        )

    async def completions(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(body)
        self.keys.append(request.headers.get("authorization", ""))
        messages = body["messages"]
        user = next(m["content"] for m in reversed(messages) if m["role"] == "user")
        last = messages[-1]
        model = body.get("model", "")
        if "busy-once" in user and user not in self.busy_once_seen:
            self.busy_once_seen.add(user)
            return _rate_limited(1)
        if "busy" in user and "busy-once" not in user:
            return _rate_limited(2)
        script: AsyncIterator[dict[str, Any]]
        if "parallel" in user and last["role"] == "user":
            script = _calls(
                [("call_a", "get_weather", ['{"pla', 'ce": "Lis', 'bon"}']),
                 ("call_b", "get_weather", ['{"place": ', '"Porto"}'])]
            )  # fmt: skip
        elif "malformed" in user and last["role"] == "user":
            script = _calls([("call_m", "get_weather", ['{"place": "Lis'])])
        elif "malformed" in user and "invalid arguments" in last.get("content", ""):
            script = _calls([("call_n", "get_weather", ['{"place": "Lisbon"}'])])
        elif "refuse" in user:
            script = _pieces([], refusal="I can't help with that.")
        elif "drop" in user:
            return StreamingResponse(_dropping(model), media_type="text/event-stream")
        elif "slow" in user:
            return StreamingResponse(self._slow(model), media_type="text/event-stream")
        elif "unhurried" in user:
            return StreamingResponse(_unhurried(model), media_type="text/event-stream")
        elif "expensive" in user:
            script = _pieces(["Costly answer."], usage=(5000, 1000))
        elif last["role"] == "tool":
            tools = [m["content"] for m in messages[messages.index(_last_assistant(messages)) :]
                     if m["role"] == "tool"]  # fmt: skip
            script = _pieces(["The tool said: ", " | ".join(tools)])
        else:
            script = _pieces(["Echo: ", user])
        return StreamingResponse(_sse(script, model), media_type="text/event-stream")

    async def _slow(self, model: str) -> AsyncIterator[bytes]:
        try:
            for n in range(150):
                yield _event(_chunk(model, {"content": f"word{n} "}))
                await asyncio.sleep(0.2)
            yield b"data: [DONE]\n\n"
        finally:
            # Reached early only when the client went away (the generator is closed).
            self.disconnected.set()


async def _unhurried(model: str) -> AsyncIterator[bytes]:
    for n in range(10):
        yield _event(_chunk(model, {"content": f"step{n} "}))
        await asyncio.sleep(0.3)
    yield _event(_chunk(model, {}, finish="stop"))
    yield b"data: [DONE]\n\n"


def _last_assistant(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return next(m for m in reversed(messages) if m["role"] == "assistant")


def _rate_limited(seconds: int) -> Response:
    return JSONResponse(
        {"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit"}},
        status_code=429,
        headers={"retry-after": str(seconds)},
    )


def _chunk(model: str, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _event(payload: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(payload)}\n\n".encode()


async def _pieces(
    texts: list[str], *, refusal: str = "", usage: tuple[int, int] = (12, 7)
) -> AsyncIterator[dict[str, Any]]:
    yield {"role": "assistant", "content": ""}
    for text in texts:
        yield {"content": text}
    if refusal:
        yield {"refusal": refusal}
    yield {"finish": "stop", "usage": usage}


async def _calls(calls: list[tuple[str, str, list[str]]]) -> AsyncIterator[dict[str, Any]]:
    yield {"role": "assistant", "content": None}
    for index, (call_id, name, parts) in enumerate(calls):
        yield {
            "tool_calls": [
                {"index": index, "id": call_id, "type": "function",
                 "function": {"name": name, "arguments": ""}}
            ]
        }  # fmt: skip
        for part in parts:
            yield {"tool_calls": [{"index": index, "function": {"arguments": part}}]}
    yield {"finish": "tool_calls", "usage": (20, 9)}


async def _sse(script: AsyncIterator[dict[str, Any]], model: str) -> AsyncIterator[bytes]:
    async for step in script:
        if "finish" in step:
            yield _event(_chunk(model, {}, step["finish"]))
            prompt, completion = step["usage"]
            usage = {"prompt_tokens": prompt, "completion_tokens": completion,
                     "total_tokens": prompt + completion}  # fmt: skip
            yield _event({**_chunk(model, {}), "choices": [], "usage": usage})
        else:
            yield _event(_chunk(model, step))
    yield b"data: [DONE]\n\n"


async def _dropping(model: str) -> AsyncIterator[bytes]:
    yield _event(_chunk(model, {"role": "assistant", "content": "Half an ans"}))
    await asyncio.sleep(0.05)
    raise ConnectionResetError("dropped on purpose")  # uvicorn aborts the response


_CONCEPTS = (
    {"meat", "vegetarian", "vegan", "eat", "food", "dietary", "diet", "restaurant", "dinner"},
    {"aisle", "window", "seat", "seats", "legroom"},
    {"wheelchair", "accessible", "step-free", "mobility", "accessibility"},
    {"child", "children", "kids", "son", "daughter", "family"},
    {"slow", "relaxed", "pace", "busy", "rushed"},
)


def _concepts(text: str) -> list[float]:
    words = set(re.findall(r"[a-z-]+", text.lower()))
    vector = [float(len(words & concept)) for concept in _CONCEPTS] + [0.01]
    norm = math.sqrt(sum(x * x for x in vector))
    return [x / norm for x in vector]
