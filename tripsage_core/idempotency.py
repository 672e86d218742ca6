"""Idempotency-Key support for Create RPCs: a retry returns the first result and creates nothing.

A client sends the header ``Idempotency-Key`` (gRPC metadata ``idempotency-key``)
on a create. The key is scoped to the caller and the RPC, and stored in
PostgreSQL, in the service's own schema, inside the same transaction as the
resource it created:

    CREATE TABLE <schema>.idempotency_keys (
        caller_id uuid NOT NULL, method text NOT NULL, key text NOT NULL,
        request_hash text NOT NULL, resource_id text,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (caller_id, method, key));

Why PostgreSQL rather than Redis: the key and the resource commit or roll back
together, so a crash between "create" and "remember the key" cannot store a
resource twice or remember a key for nothing; and the primary key makes a
concurrent retry wait on the first attempt's row lock until it commits, then
see its result (READ COMMITTED), with no polling or lock expiry to tune.

A retry with the same key but a different request body is refused: it is a
client bug, and silently returning the first result would hide it. Keys are
honoured for RETENTION; after that the same key creates anew.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol, TypeVar

import asyncpg
from google.protobuf.message import Message

from tripsage_core.errors import FailedPrecondition, InvalidArgument
from tripsage_core.idempotent_replay import note_replayed

METADATA_KEY = "idempotency-key"
MAX_KEY_LENGTH = 255
RETENTION = timedelta(hours=24)


class HasId(Protocol):
    @property
    def id(self) -> str: ...


Created = TypeVar("Created", bound=HasId)


@dataclass(frozen=True)
class IdempotencyKey:
    """One create attempt: the client's key, the RPC, and a hash of what was asked."""

    key: str
    method: str
    request_hash: str


def request_hash(request: Message) -> str:
    return hashlib.sha256(request.SerializeToString(deterministic=True)).hexdigest()


def parse_idempotency_key(raw: str | None, method: str, request: Message) -> IdempotencyKey | None:
    """The key a call sent (None if none); InvalidArgument when the key is unusable."""
    if raw is None:
        return None
    key = raw.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidArgument.for_field(
            METADATA_KEY, f"must be 1 to {MAX_KEY_LENGTH} printable characters"
        )
    return IdempotencyKey(key=key, method=method, request_hash=request_hash(request))


class IdempotencyLedger:
    """The keys of one service, in ``<schema>.idempotency_keys`` (see the module doc)."""

    def __init__(self, schema: str) -> None:
        self.table = f'"{schema}".idempotency_keys'

    async def create_once(
        self,
        conn: asyncpg.Connection[Any],
        caller_id: str,
        attempt: IdempotencyKey | None,
        *,
        create: Callable[[], Awaitable[Created]],
        replay: Callable[[str], Awaitable[Created | None]],
        what: str,
    ) -> Created:
        """Every idempotent create: within its transaction, the first attempt's result
        (`replay` of the id it created) or a new one from `create`, remembered under the
        key. Without a key it simply creates."""
        if attempt is not None:
            first = await self.claim(conn, caller_id, attempt)
            if first is not None:
                found = await replay(first)
                if found is None:
                    raise FailedPrecondition(
                        f"the {what} this Idempotency-Key created has since been deleted;"
                        " use a new key",
                        reason="IDEMPOTENT_RESULT_DELETED",
                    )
                note_replayed()
                return found
        created = await create()
        if attempt is not None:
            await self.complete(conn, caller_id, attempt, created.id)
        return created

    async def claim(
        self, conn: asyncpg.Connection[Any], caller_id: str, attempt: IdempotencyKey
    ) -> str | None:
        """Within the create's transaction: None if this attempt is the first (go on and
        create, then `complete`), else the id of what the first attempt created."""
        caller = uuid.UUID(caller_id)
        await conn.execute(
            f"DELETE FROM {self.table} WHERE caller_id = $1 AND method = $2 AND key = $3"  # noqa: S608
            " AND created_at < now() - $4::interval",
            caller,
            attempt.method,
            attempt.key,
            RETENTION,
        )
        # Blocks while another transaction holds the same key, until it ends.
        inserted = await conn.fetchval(
            f"INSERT INTO {self.table} (caller_id, method, key, request_hash)"  # noqa: S608
            " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING true",
            caller,
            attempt.method,
            attempt.key,
            attempt.request_hash,
        )
        if inserted:
            return None
        row = await conn.fetchrow(
            f"SELECT request_hash, resource_id FROM {self.table}"  # noqa: S608
            " WHERE caller_id = $1 AND method = $2 AND key = $3",
            caller,
            attempt.method,
            attempt.key,
        )
        if row is None or row["resource_id"] is None:
            # The first attempt rolled back between our insert and this read; rare.
            raise FailedPrecondition(
                "a request with this Idempotency-Key is still in progress; retry",
                reason="IDEMPOTENCY_KEY_IN_USE",
            )
        if row["request_hash"] != attempt.request_hash:
            raise FailedPrecondition(
                "this Idempotency-Key was used for a different request; use a new key",
                reason="IDEMPOTENCY_KEY_REUSED",
            )
        return str(row["resource_id"])

    async def complete(
        self,
        conn: asyncpg.Connection[Any],
        caller_id: str,
        attempt: IdempotencyKey,
        resource_id: str,
    ) -> None:
        await conn.execute(
            f"UPDATE {self.table} SET resource_id = $4"  # noqa: S608
            " WHERE caller_id = $1 AND method = $2 AND key = $3",
            uuid.UUID(caller_id),
            attempt.method,
            attempt.key,
            resource_id,
        )
