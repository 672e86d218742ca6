"""PostgreSQL access: one asyncpg pool per process and row-level-security transactions.

Services connect as the schema owner, but every request that touches user data
runs its transaction as a NOLOGIN role without ownership (SET LOCAL ROLE) with
the caller's id in a transaction-local setting, so the database's policies, not
only the service's WHERE clauses, decide what is visible.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from asyncpg.exceptions._base import InternalClientError

from tripsage_core.errors import Unavailable

# The transaction-local setting the RLS policies read: current_setting('app.user_id', true).
USER_ID_SETTING = "app.user_id"


class CountingPool(asyncpg.Pool):
    """asyncpg's pool, also counting the callers waiting for a connection (asyncpg has
    no figure for it; the detailed health shows it). Every acquire, including the pool's
    own fetch/execute, goes through `_acquire`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.waiting = 0

    async def _acquire(self, timeout: float | None) -> Any:  # noqa: ASYNC109 (asyncpg's)
        self.waiting += 1
        try:
            return await super()._acquire(timeout)  # type: ignore[misc]
        finally:
            self.waiting -= 1


async def create_pool(
    dsn: str, *, min_size: int = 1, max_size: int = 10, statement_cache_size: int = 100
) -> CountingPool:
    # What asyncpg.create_pool does, with our pool class. statement_cache_size=0 behind a
    # transaction-mode pooler (POSTGRES_STATEMENT_CACHE_SIZE): a prepared statement lives on
    # one server connection, and the pooler may run the next transaction on another.
    pool = CountingPool(
        dsn,
        connection_class=asyncpg.Connection,
        record_class=asyncpg.Record,
        min_size=min_size,
        max_size=max_size,
        max_queries=50000,
        max_inactive_connection_lifetime=300.0,
        setup=None,
        init=_init_connection,
        reset=_reset_connection,
        loop=None,
        connect=None,
        command_timeout=30,
        statement_cache_size=statement_cache_size,
        server_settings={"application_name": "tripsage"},
    )
    await pool
    return pool


class Database:
    """A pool that may not exist yet: services start before their database answers."""

    def __init__(self, dsn: str, *, max_size: int = 10, statement_cache_size: int = 100) -> None:
        self.dsn = dsn
        self.max_size = max_size
        self.statement_cache_size = statement_cache_size
        self._pool: CountingPool | None = None

    @property
    def pool(self) -> asyncpg.Pool[Any]:
        if self._pool is None:
            raise Unavailable("the database is not reachable yet; retry shortly")
        return self._pool

    async def connect(self) -> None:
        if self._pool is None:
            self._pool = await create_pool(
                self.dsn, max_size=self.max_size, statement_cache_size=self.statement_cache_size
            )

    async def ping(self) -> bool:
        return self._pool is not None and await ping(self._pool)

    def pool_use(self) -> dict[str, int] | None:
        """The pool's connections (open, lent out, the most allowed) and the callers waiting
        for one; None before the pool exists (the detailed health and the metrics read it)."""
        if self._pool is None:
            return None
        size = self._pool.get_size()
        return {
            "size": size,
            "inUse": size - self._pool.get_idle_size(),
            "maxSize": self._pool.get_max_size(),
            "waiting": self._pool.waiting,
        }

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


async def _init_connection(conn: asyncpg.Connection[Any]) -> None:
    # jsonb columns in and out as Python values.
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _reset_connection(conn: asyncpg.Connection[Any]) -> None:
    # Replaces asyncpg's default reset (RESET ALL, UNLISTEN, advisory unlock: a round trip on
    # every release). asyncpg still rolls back an unfinished transaction before calling this,
    # and nothing here keeps session state: settings are transaction-local (SET LOCAL,
    # set_config(..., true)), migrations lock per transaction and LISTEN has its own
    # connection. That is also what lets the pool work through a transaction-mode pooler,
    # which hands each transaction whichever server connection is free.
    return None


def _literal(value: str) -> str:
    """`value` as an escape-string literal, the same under any standard_conforming_strings."""
    if "\x00" in value:
        raise ValueError("a setting cannot contain NUL")
    return "E'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


async def ping(pool: asyncpg.Pool[Any]) -> bool:
    try:
        async with pool.acquire(timeout=2) as conn:
            return bool(await conn.fetchval("SELECT 1") == 1)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False


@asynccontextmanager
async def user_transaction(
    pool: asyncpg.Pool[Any],
    role: str,
    user_id: str,
    settings: Mapping[str, str] | None = None,
) -> AsyncIterator[asyncpg.Connection[Any]]:
    """A transaction that runs as `role` with `user_id` as the caller; RLS applies to it.

    `settings` are further transaction-local settings (name -> value) for the policies.
    BEGIN, the role and every setting go in one simple-query round trip (bound parameters
    would need the extended protocol, one statement each), so a read costs BEGIN+settings,
    its query and COMMIT. The transaction is started by hand: do not open
    `conn.transaction()` inside it.
    """
    values = {USER_ID_SETTING: user_id, **(settings or {})}
    configs = ", ".join(
        f"set_config({_literal(name)}, {_literal(value)}, true)" for name, value in values.items()
    )
    # Identifiers cannot be bound parameters; `role` comes from our own code.
    setup = f'BEGIN; SET LOCAL ROLE "{role}"; SELECT {configs}'
    async with pool.acquire() as conn:
        try:
            await conn.execute(setup)
            yield conn  # type: ignore[misc]  # a pool proxy behaves as the connection
        except BaseException:
            try:
                await conn.execute("ROLLBACK")
            except (asyncpg.PostgresError, asyncpg.InterfaceError, InternalClientError, OSError):
                # A broken connection (killed, or its server gone): closed here so the pool
                # opens a new one instead of lending this one out again.
                conn.terminate()
            raise
        await conn.execute("COMMIT")


async def ensure_database(admin_dsn: str, name: str) -> None:
    """Create database `name` if missing (for embedded and test servers)."""
    conn = await asyncpg.connect(admin_dsn)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            # Another process may win the race; that is fine.
            with contextlib.suppress(asyncpg.DuplicateDatabaseError):
                await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def with_database(dsn: str, name: str) -> str:
    """The same server, another database: replaces the path of a postgresql:// URL."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path=f"/{name}"))
