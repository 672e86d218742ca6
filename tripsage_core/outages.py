"""Which exceptions mean that a dependency (PostgreSQL, Redis) is down or going away,
rather than that our code is wrong: a call that meets one fails fast with UNAVAILABLE
(503 at the gateway, safe to retry) instead of INTERNAL, and nothing is half-written
because the transaction it was in never committed."""

from __future__ import annotations

import socket

import asyncpg
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

_OUTAGES: tuple[type[BaseException], ...] = (
    # Refused, reset or aborted connections; a name that does not resolve; a timeout
    # waiting for a connection (asyncpg's pool and connect raise the built-in one).
    ConnectionError,
    TimeoutError,
    socket.gaierror,
    # Lost mid-call (08xxx), or the server starting up or shutting down (57P01-57P03).
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.ConnectionDoesNotExistError,
    # A query on a connection the server has just killed, before asyncpg has seen it close
    # (its protocol is still consuming the server's farewell error).
    asyncpg.InternalClientError,
    RedisConnectionError,
    RedisTimeoutError,
)


def is_outage(exc: BaseException) -> bool:
    """Whether `exc`, or what it was raised from, says a dependency is unavailable."""
    seen: BaseException | None = exc
    for _ in range(8):  # a cause chain is short; never loop on a cycle
        if seen is None:
            return False
        if isinstance(seen, _OUTAGES) or _is_missing_socket(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _is_missing_socket(exc: BaseException) -> bool:
    # A server on a Unix socket that has stopped: connect() finds no socket file. It
    # raises without a file name, where opening a missing file names it (still INTERNAL).
    return isinstance(exc, FileNotFoundError) and exc.filename is None
