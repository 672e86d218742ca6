"""SQL migrations per service: applied in order, recorded with checksums, one runner at a time.

Each service keeps `migrations/NNNN_name.sql` files. Each is applied under a
transaction-scoped PostgreSQL advisory lock, so replicas that start together apply
each file exactly once; a recorded file whose text changed afterwards stops start-up
instead of drifting.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

logger = logging.getLogger("tripsage.migrations")

_LOCK_KEY = 0x7472697073616765 & 0x7FFFFFFFFFFFFFFF  # "tripsage"
_FILE_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class MigrationError(Exception):
    pass


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load_migrations(directory: Path) -> list[Migration]:
    found: list[Migration] = []
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if not match:
            raise MigrationError(f"{path}: migration files are named NNNN_lower_snake.sql")
        found.append(Migration(int(match.group(1)), path.name, path.read_text()))
    versions = [m.version for m in found]
    if len(versions) != len(set(versions)):
        raise MigrationError(f"{directory}: two migrations share a version number")
    return found


async def apply_migrations(
    conn: asyncpg.Connection[Any], service: str, directory: Path
) -> list[str]:
    """Apply what is new for `service`; returns the names applied now.

    Each file runs in its own transaction that first takes a transaction-scoped advisory
    lock and then reads whether it is recorded, so racing replicas apply it once. Nothing
    outlives a transaction (no session lock), so this also works through a
    transaction-mode pooler such as Supabase's on port 6543."""
    migrations = load_migrations(directory)
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK_KEY)
        await conn.execute(
            """
            CREATE SCHEMA IF NOT EXISTS tripsage_meta;
            CREATE TABLE IF NOT EXISTS tripsage_meta.schema_migrations (
                service text NOT NULL,
                version integer NOT NULL,
                name text NOT NULL,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (service, version)
            );
            """
        )
    applied_now: list[str] = []
    for migration in migrations:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK_KEY)
            recorded = await conn.fetchval(
                "SELECT checksum FROM tripsage_meta.schema_migrations"
                " WHERE service = $1 AND version = $2",
                service,
                migration.version,
            )
            if recorded is not None:
                if recorded != migration.checksum:
                    raise MigrationError(
                        f"{service} migration {migration.name} changed after it was applied "
                        f"(recorded {recorded[:12]}, file {migration.checksum[:12]}); "
                        "add a new migration instead of editing an applied one"
                    )
                continue
            await conn.execute(migration.sql)
            await conn.execute(
                "INSERT INTO tripsage_meta.schema_migrations (service, version, name, checksum)"
                " VALUES ($1, $2, $3, $4)",
                service,
                migration.version,
                migration.name,
                migration.checksum,
            )
        logger.info(
            "applied migration", extra={"for_service": service, "migration": migration.name}
        )
        applied_now.append(migration.name)
    return applied_now


async def migrate(dsn: str, service: str, directory: Path) -> list[str]:
    # No statement cache: a handful of statements run once, and through a transaction
    # pooler a cached statement would be missing on the next server connection.
    conn = await asyncpg.connect(dsn, statement_cache_size=0)
    try:
        return await apply_migrations(conn, service, directory)
    finally:
        await conn.close()
