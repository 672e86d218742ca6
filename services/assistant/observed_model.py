"""A model call observed: its latency and outcome in metrics, a span when tracing is on
(model name and outcome only, never message content)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from services.assistant.chat import ChatMessage, ChatModel, ModelEvent, ToolSpec
from services.assistant.metrics import MODEL_CALLS
from tripsage_core.telemetry import span

OFFLINE = "offline"  # OfflineAssistant.name


async def observed_stream(
    model: ChatModel, messages: list[ChatMessage], tools: list[ToolSpec]
) -> AsyncIterator[ModelEvent]:
    mode = OFFLINE if model.name == OFFLINE else "live"
    started, outcome = time.perf_counter(), "error"
    with span("assistant.model", **{"model.name": model.name, "model.mode": mode}) as note:
        try:
            async for event in model.stream(messages, tools):
                yield event
            outcome = "ok"
        except (asyncio.CancelledError, GeneratorExit):
            outcome = "cancelled"
            raise
        finally:
            note("outcome", outcome)
            MODEL_CALLS.labels(mode, model.name, outcome).observe(time.perf_counter() - started)
