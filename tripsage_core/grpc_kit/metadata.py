"""Reading gRPC call metadata: the one place servicers and interceptors get headers from."""

from __future__ import annotations

from typing import Any

from google.protobuf.message import Message
from grpc import aio

from tripsage_core.idempotency import METADATA_KEY, IdempotencyKey, parse_idempotency_key


def metadata_value(context: aio.ServicerContext[Any, Any], key: str) -> str | None:
    for item_key, value in context.invocation_metadata() or ():
        if item_key == key:
            return value if isinstance(value, str) else value.decode()
    return None


def idempotency_key(
    context: aio.ServicerContext[Any, Any], method: str, request: Message
) -> IdempotencyKey | None:
    """The Idempotency-Key the call sent, checked (see tripsage_core.idempotency)."""
    return parse_idempotency_key(metadata_value(context, METADATA_KEY), method, request)
