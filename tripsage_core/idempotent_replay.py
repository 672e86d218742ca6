"""Telling the caller that a create replayed an Idempotency-Key's first result.

tripsage_core.idempotency notes a replay here; grpc_kit's ServerKit interceptor
(run by every service) then sends the trailing metadata ``idempotent-replayed: true``,
which the gateway reads to answer 200 rather than 201 Created. Kept apart from
tripsage_core.idempotency so services without a database import no asyncpg for it.
"""

from __future__ import annotations

from contextvars import ContextVar

REPLAYED_METADATA_KEY = "idempotent-replayed"

# One box per call, put in place by the interceptor (a box, not a value, so a replay
# noted in a task the call spawned still reaches it).
replay_box_var: ContextVar[list[bool] | None] = ContextVar("idempotent_replay", default=None)


def note_replayed() -> None:
    """Record that this call answered with an earlier attempt's result."""
    box = replay_box_var.get()
    if box is not None:
        box.append(True)
