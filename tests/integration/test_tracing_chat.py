"""One REST chat turn is one trace: the gateway, the services it reaches, their SQL and
Redis commands, and the assistant's model and tool calls, received over OTLP/HTTP."""

from __future__ import annotations

import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from tests.support.otlp_receiver import OtlpReceiver
from tests.support.traced_chat import MESSAGE

pytestmark = pytest.mark.database
ROOT = Path(__file__).resolve().parents[2]


def _attributes(span: Any) -> dict[str, Any]:
    return {
        a.key: a.value.string_value or a.value.int_value or a.value.bool_value
        for a in span.attributes
    }


def spans_by_trace(receiver: OtlpReceiver) -> dict[bytes, list[Any]]:
    found: dict[bytes, list[Any]] = defaultdict(list)
    for request in receiver.requests:
        for resource_spans in request.resource_spans:
            for scope in resource_spans.scope_spans:
                for span in scope.spans:
                    found[span.trace_id].append(span)
    return found


def test_a_chat_turn_is_one_trace_from_gateway_to_model(
    database_dsn: str, redis_url: str, tmp_path: Path
) -> None:
    with OtlpReceiver() as receiver:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "tests.support.traced_chat",
                database_dsn,
                redis_url,
                str(tmp_path),
                receiver.endpoint,
            ],
            cwd=ROOT,
            check=True,
            timeout=180,
        )
    traces = spans_by_trace(receiver)
    (turn,) = [
        spans for spans in traces.values() if any(span.name == "assistant.model" for span in spans)
    ]
    names = {span.name for span in turn}
    attributes = [_attributes(span) for span in turn]
    roots = [span for span in turn if not span.parent_span_id]
    assert len(roots) == 1
    assert "POST" in roots[0].name  # the gateway's HTTP request
    grpc_services = {a.get("rpc.service") for a in attributes}
    assert "tripsage.assistant.v1.AssistantService" in grpc_services
    assert "tripsage.travel.v1.TravelService" in grpc_services  # the weather tool
    databases = {a.get("db.system") or a.get("db.system.name") for a in attributes}
    assert {"postgresql", "redis"} <= databases
    assert {"assistant.model", "assistant.tool"} <= names
    model = next(a for s, a in zip(turn, attributes, strict=True) if s.name == "assistant.model")
    assert model["model.name"] == "offline"
    assert model["outcome"] == "ok"
    tools = [a for s, a in zip(turn, attributes, strict=True) if s.name == "assistant.tool"]
    assert {(a["tool.name"], a["outcome"]) for a in tools} == {("get_weather", "ok")}
    # Message content stays out of the model and tool spans.
    for span in turn:
        if span.name.startswith("assistant."):
            assert all(MESSAGE not in str(value) for value in _attributes(span).values())
