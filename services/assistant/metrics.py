"""Prometheus metrics of the assistant: model calls by mode, model and outcome, tool calls
by tool and outcome (prometheus_client's default registry, ASSISTANT_METRICS_PORT)."""

from __future__ import annotations

from prometheus_client import Histogram

MODEL_CALLS = Histogram(
    "tripsage_assistant_model_call_duration_seconds",
    "One model call (a streamed answer, until it ends) by mode (live, offline), model and "
    "outcome (ok, error, cancelled); the _count by outcome is the error count.",
    ["mode", "model", "outcome"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
TOOL_CALLS = Histogram(
    "tripsage_assistant_tool_call_duration_seconds",
    "One tool call by tool and outcome (ok, error); a tool no toolbox has is 'unknown'.",
    ["tool", "outcome"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
