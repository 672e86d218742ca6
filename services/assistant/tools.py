"""The tools the assistant may call, and running one safely. No transport here.

A tool is a spec (name, description, JSON Schema parameters) and a `run` that acts
as the end user. The travel tools are RPCs of the travel service whose schemas are
their request messages (tripsage_core.proto_schema; adapters in clients.py); the
memory tools are in-process. Whatever goes wrong becomes an error the model reads,
never an exception out of the turn.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from services.assistant.chat import ToolCallRequest, ToolSpec
from services.assistant.memories import MemoryBook, MemoryFilter, NewMemory
from services.assistant.metrics import TOOL_CALLS
from services.assistant.model import MemoryCategory
from tripsage_core.errors import DomainError
from tripsage_core.identity import Principal
from tripsage_core.telemetry import span

TOOL_TIMEOUT_SECONDS = 20.0


@dataclass(frozen=True)
class ToolOutcome:
    result: dict[str, Any] = field(default_factory=dict)
    summary: str = ""
    error: str = ""
    seconds: float = 0.0


class Tool(Protocol):
    @property
    def spec(self) -> ToolSpec: ...

    async def run(self, caller: Principal, arguments: dict[str, Any]) -> ToolOutcome: ...


class ToolArgumentsInvalid(ValueError):
    """The model's arguments do not fit the tool's schema; told back to the model."""


class Toolbox:
    def __init__(self, tools: Iterable[Tool], *, timeout: float = TOOL_TIMEOUT_SECONDS) -> None:
        self.tools = {tool.spec.name: tool for tool in tools}
        self.timeout = timeout

    def add(self, tool: Tool) -> None:
        """A tool that itself runs others (plan_trip), added once the box exists."""
        self.tools[tool.spec.name] = tool

    @property
    def specs(self) -> list[ToolSpec]:
        return [tool.spec for tool in self.tools.values()]

    def proposal(self, call: ToolCallRequest) -> str | None:
        """The change a call would make, in words; None for a call that changes nothing
        (or cannot run at all: it fails on its own without approval)."""
        tool = self.tools.get(call.name)
        if tool is None or tool.spec.proposal is None or call.problem:
            return None
        return tool.spec.proposal(call.arguments)

    async def run(self, caller: Principal, call: ToolCallRequest) -> ToolOutcome:
        name = call.name if call.name in self.tools else "unknown"  # bounded label
        with span("assistant.tool", **{"tool.name": name}) as note:
            outcome = await self._run(caller, call)
            result = "error" if outcome.error else "ok"
            note("outcome", result)
        TOOL_CALLS.labels(name, result).observe(outcome.seconds)
        return outcome

    async def _run(self, caller: Principal, call: ToolCallRequest) -> ToolOutcome:
        started = time.perf_counter()
        tool = self.tools.get(call.name)
        if tool is None:
            outcome = ToolOutcome(error=f"there is no tool called {call.name!r}")
        elif call.problem:
            outcome = ToolOutcome(error=f"invalid arguments: {call.problem}; call it again")
        else:
            try:
                outcome = await asyncio.wait_for(tool.run(caller, call.arguments), self.timeout)
            except TimeoutError:
                outcome = ToolOutcome(error=f"{call.name} took longer than {self.timeout:g} s")
            except ToolArgumentsInvalid as problem:
                outcome = ToolOutcome(error=f"invalid arguments: {problem}")
            except DomainError as problem:
                outcome = ToolOutcome(error=str(problem))
        return ToolOutcome(
            outcome.result, outcome.summary, outcome.error, time.perf_counter() - started
        )


_CATEGORIES = {c.value: c for c in MemoryCategory}


class RememberTool:
    """remember: keep one statement about the user (a preference, fact or experience)."""

    spec = ToolSpec(
        name="remember",
        description="Remember one durable statement about the user, e.g. a dietary need or "
        "a seat preference, to personalise later answers and plans.",
        parameters={
            "type": "object",
            "properties": {
                "content": {"type": "string", "description": "One statement, in English."},
                "category": {"type": "string", "enum": sorted(_CATEGORIES)},
            },
            "required": ["content"],
        },
    )

    def __init__(self, memories: MemoryBook) -> None:
        self.memories = memories

    async def run(self, caller: Principal, arguments: dict[str, Any]) -> ToolOutcome:
        content = arguments.get("content")
        if not isinstance(content, str):
            raise ToolArgumentsInvalid("content must be a string")
        category = _CATEGORIES.get(str(arguments.get("category", "preference")))
        memory = await self.memories.remember(
            caller, NewMemory(content, category or MemoryCategory.PREFERENCE)
        )
        return ToolOutcome(
            {"id": memory.id, "content": memory.content, "category": memory.category.value},
            f"remembered: {memory.content}",
        )


class RecallTool:
    """recall: what the assistant remembers about the user, optionally matching a query."""

    spec = ToolSpec(
        name="recall",
        description="Recall what is remembered about the user (best match first).",
        parameters={
            "type": "object",
            "properties": {"query": {"type": "string", "description": "Words to match."}},
        },
    )

    def __init__(self, memories: MemoryBook) -> None:
        self.memories = memories

    async def run(self, caller: Principal, arguments: dict[str, Any]) -> ToolOutcome:
        query = arguments.get("query", "")
        if not isinstance(query, str):
            raise ToolArgumentsInvalid("query must be a string")
        page = await self.memories.list(
            caller, MemoryFilter(query=query), page_size=20, page_token=""
        )
        found = [{"content": m.content, "category": m.category.value} for m in page.rows]
        return ToolOutcome({"memories": found}, f"{len(found)} memories")
