"""What a service process owns besides its servicer: database, Redis, migrations, readiness.

A service starts listening at once and reports NOT_SERVING; connecting and
migrating happen in the readiness check, so a database that comes up later
(or comes back) turns the service SERVING without a restart.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from tripsage_core import client_address, page_tokens
from tripsage_core.cache import ping as redis_ping
from tripsage_core.cache import redis_from_settings
from tripsage_core.config import Settings
from tripsage_core.database import Database
from tripsage_core.grpc_kit.metrics import track_pool
from tripsage_core.migrations import migrate

logger = logging.getLogger("tripsage.runtime")


class MissingSetting(Exception):
    pass


def _use_secret_key(settings: Settings) -> None:
    # Page tokens this service issues, and the client addresses the gateway vouches for.
    page_tokens.SIGNER.use_settings(settings)
    client_address.SEAL.use_settings(settings)


class ServiceRuntime:
    def __init__(
        self,
        settings: Settings,
        *,
        service: str,
        migrations_dir: Path | None = None,
        needs_database: bool = True,
        needs_redis: bool = True,
    ) -> None:
        self.service = service
        _use_secret_key(settings)
        self.migrations_dir = migrations_dir
        self.database: Database | None = None
        self.migrations_dsn: str | None = None
        if needs_database:
            if settings.postgres_url is None:
                raise MissingSetting(
                    "POSTGRES_URL is not set: run `tripsage up` (embedded PostgreSQL) or set it"
                )
            self.database = Database(
                settings.postgres_url.get_secret_value(),
                max_size=settings.database_pool_max_size,
                statement_cache_size=settings.postgres_statement_cache_size,
            )
            # Migrations go to POSTGRES_DIRECT_URL when a pooler fronts POSTGRES_URL.
            self.migrations_dsn = settings.postgres_session_url
            track_pool(service, self.database)
        self.redis = None
        if needs_redis:
            self.redis = redis_from_settings(settings)
            if self.redis is None:
                raise MissingSetting(
                    "REDIS_URL is not set: run `tripsage up` (embedded Valkey) or set it"
                    " (or UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN)"
                )
        self._migrated = False
        self._components: dict[str, bool] = {}
        self._lock = asyncio.Lock()

    @property
    def db(self) -> Database:
        assert self.database is not None, f"{self.service} runs without a database"
        return self.database

    async def ready(self) -> bool:
        """Connects and migrates on first success; then just pings."""
        if self.database is not None:
            self._components["database"] = await self._database_ready(self.database)
        if self.redis is not None:
            self._components["redis"] = await redis_ping(self.redis)
        return all(self._components.values())

    def components(self) -> dict[str, bool]:
        """Each dependency as of the last readiness check (published in health)."""
        return dict(self._components)

    async def describe(self) -> dict[str, Any]:
        """Latency of each dependency (None while it does not answer) and the pool's use,
        for the kit's Diagnostics/Describe."""
        body: dict[str, Any] = {}
        if self.database is not None:
            body["postgresLatencyMs"] = await timed_ms(self.database.ping)
            if (pool := self.database.pool_use()) is not None:
                body["pool"] = pool
        if self.redis is not None:
            redis = self.redis
            body["redisLatencyMs"] = await timed_ms(lambda: redis_ping(redis))
        return body

    async def _database_ready(self, database: Database) -> bool:
        async with self._lock:
            try:
                if not self._migrated:
                    if self.migrations_dir is not None:
                        dsn = self.migrations_dsn or database.dsn
                        applied = await migrate(dsn, self.service, self.migrations_dir)
                        if applied:
                            logger.info("migrations applied: %s", ", ".join(applied))
                    self._migrated = True
                await database.connect()
            except OSError as exc:
                logger.warning("database not reachable: %s", exc)
                return False
        return await database.ping()

    async def close(self) -> None:
        if self.database is not None:
            await self.database.close()
        if self.redis is not None:
            await self.redis.aclose()


async def timed_ms(probe: Callable[[], Awaitable[bool]]) -> float | None:
    """How long a dependency's probe took, in ms; None when it failed or took over 2 s."""
    started = time.perf_counter()
    try:
        ok = await asyncio.wait_for(probe(), timeout=2)
    except TimeoutError:
        ok = False
    return round((time.perf_counter() - started) * 1000, 2) if ok else None
