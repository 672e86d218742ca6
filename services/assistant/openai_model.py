"""The chat model behind the official `openai` package: OpenAI itself, or any server that
speaks its chat-completions API (vLLM, Ollama, LM Studio, llama.cpp) at OPENAI_BASE_URL.

It streams text and tool calls (parallel ones included) as `chat.py` events. The
client retries 429s and dropped connections by itself (OPENAI_MAX_RETRIES, honouring
Retry-After); what still fails becomes a domain error the turn reports, never an
exception of the openai package. Tool-call arguments that are not a JSON object reach
the turn as a call with a problem, which the tool answers with an error the model reads.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import openai

from services.assistant import chat
from tripsage_core.errors import FailedPrecondition, Unavailable

logger = logging.getLogger("tripsage.assistant.openai")

# Servers that need no key (a local vLLM or Ollama) still get one: the client insists.
NO_KEY = "unused"


@dataclass
class _PendingCall:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)

    def request(self) -> chat.ToolCallRequest:
        text = "".join(self.arguments).strip() or "{}"
        try:
            parsed = json.loads(text)
        except ValueError:
            return chat.ToolCallRequest(
                self.id, self.name, {}, problem="the arguments are not JSON"
            )
        if not isinstance(parsed, dict):
            return chat.ToolCallRequest(
                self.id, self.name, {}, problem="the arguments are not an object"
            )
        return chat.ToolCallRequest(self.id, self.name, parsed)


def to_openai_messages(messages: list[chat.ChatMessage]) -> list[dict[str, Any]]:
    """The conversation as chat-completions messages. History is cut to its last
    messages, so a tool result may have lost its call (or a call its results, when a
    turn was cancelled); the API refuses either, so such halves are left out."""
    answered = {m.tool_call_id for m in messages if m.role == "tool"}
    asked: set[str] = set()
    out: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "tool":
            if message.tool_call_id in asked:
                out.append(
                    {
                        "role": "tool",
                        "tool_call_id": message.tool_call_id,
                        "content": message.content,
                    }
                )
            continue
        entry: dict[str, Any] = {"role": message.role, "content": message.content}
        calls = [c for c in message.tool_calls if c.id in answered]
        if message.role == "assistant" and calls:
            asked.update(c.id for c in calls)
            entry["content"] = message.content or None
            entry["tool_calls"] = [
                {
                    "id": c.id,
                    "type": "function",
                    "function": {"name": c.name, "arguments": json.dumps(c.arguments)},
                }
                for c in calls
            ]
        elif message.role == "assistant" and not message.content:
            continue  # a cancelled round that said nothing
        out.append(entry)
    return out


def to_openai_tools(tools: list[chat.ToolSpec]) -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "function": {"name": t.name, "description": t.description, "parameters": t.parameters},
        }
        for t in tools
    ]


class OpenAIChatModel:
    """One configured model for one key and base URL."""

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | None,
        model: str,
        timeout: float,
        max_retries: int,
        http_client: openai.DefaultAsyncHttpxClient | None = None,
        users_key: bool = False,
    ) -> None:
        self.name = model
        self.users_key = users_key
        # Cheap to make per call: the connection pool is the shared http_client's.
        self.client = openai.AsyncOpenAI(
            api_key=api_key or NO_KEY,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            http_client=http_client,
        )

    async def stream(
        self, messages: list[chat.ChatMessage], tools: list[chat.ToolSpec]
    ) -> AsyncIterator[chat.ModelEvent]:
        request: dict[str, Any] = {
            "model": self.name,
            "messages": to_openai_messages(messages),
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if tools:
            request["tools"] = to_openai_tools(tools)
        pending: dict[int, _PendingCall] = {}
        usage = chat.Finished()
        try:
            stream = await self.client.chat.completions.create(**request)
            try:
                async for chunk in stream:
                    if chunk.usage is not None:
                        usage = chat.Finished(
                            chunk.usage.prompt_tokens or 0, chunk.usage.completion_tokens or 0
                        )
                    for choice in chunk.choices:
                        delta = choice.delta
                        if delta.content:
                            yield chat.TextPiece(delta.content)
                        if getattr(delta, "refusal", None):
                            yield chat.TextPiece(delta.refusal or "")
                        for part in delta.tool_calls or ():
                            call = pending.setdefault(part.index, _PendingCall())
                            call.id = part.id or call.id
                            if part.function is not None:
                                call.name = part.function.name or call.name
                                if part.function.arguments:
                                    call.arguments.append(part.function.arguments)
            finally:
                await stream.close()  # also when the caller went away: the server stops
        except openai.APIError as error:
            raise self._domain_error(error) from None
        for index in sorted(pending):
            call = pending[index]
            if call.name:
                yield chat.ToolRequested(call.request())
        yield usage

    def _domain_error(self, error: openai.APIError) -> Exception:
        logger.warning("model call failed: %s", type(error).__name__)
        if isinstance(error, openai.AuthenticationError | openai.PermissionDeniedError):
            if self.users_key:
                return FailedPrecondition(
                    "the model refused your OpenAI key; replace it under provider keys",
                    reason="MODEL_KEY_REFUSED",
                )
            return Unavailable(
                "the model refused the server's key",
                reason="MODEL_UNAVAILABLE",
                retry_after_seconds=60,
            )
        if isinstance(error, openai.RateLimitError):
            return Unavailable(
                "the model is busy; retry shortly",
                reason="MODEL_RATE_LIMITED",
                retry_after_seconds=_retry_after(error.response) or 5,
            )
        if isinstance(error, openai.BadRequestError):
            return FailedPrecondition(
                "the model could not take this conversation (too long or not allowed); "
                "start a new conversation",
                reason="MODEL_REFUSED_REQUEST",
            )
        return Unavailable(
            "the model did not answer; retry shortly",
            reason="MODEL_UNAVAILABLE",
            retry_after_seconds=5,
        )


def _retry_after(response: Any) -> int | None:
    try:
        value = float(response.headers.get("retry-after", ""))
    except (AttributeError, TypeError, ValueError):
        return None
    return max(1, min(int(value + 0.999), 3600))
