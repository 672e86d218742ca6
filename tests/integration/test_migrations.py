"""Migrations: ordered, recorded with checksums, applied once even when replicas race."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest

from tripsage_core.migrations import MigrationError, load_migrations, migrate

pytestmark = pytest.mark.database


def _write(directory: Path, name: str, sql: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(sql)


async def test_applies_in_order_once_and_records_checksums(
    database_dsn: str, tmp_path: Path
) -> None:
    _write(tmp_path, "0001_create.sql", "CREATE TABLE public.m_demo (id int);")
    _write(tmp_path, "0002_insert.sql", "INSERT INTO public.m_demo VALUES (1);")
    assert await migrate(database_dsn, "demo", tmp_path) == ["0001_create.sql", "0002_insert.sql"]
    assert await migrate(database_dsn, "demo", tmp_path) == []
    conn = await asyncpg.connect(database_dsn)
    try:
        assert await conn.fetchval("SELECT count(*) FROM public.m_demo") == 1
        rows = await conn.fetch(
            "SELECT name, checksum FROM tripsage_meta.schema_migrations"
            " WHERE service = 'demo' ORDER BY version"
        )
    finally:
        await conn.close()
    expected = {m.name: m.checksum for m in load_migrations(tmp_path)}
    assert {r["name"]: r["checksum"] for r in rows} == expected


async def test_an_edited_applied_migration_stops_startup(database_dsn: str, tmp_path: Path) -> None:
    _write(tmp_path, "0001_create.sql", "CREATE TABLE public.m_edit (id int);")
    await migrate(database_dsn, "edit", tmp_path)
    _write(tmp_path, "0001_create.sql", "CREATE TABLE public.m_edit (id bigint);")
    with pytest.raises(MigrationError, match="changed after it was applied"):
        await migrate(database_dsn, "edit", tmp_path)


async def test_a_failing_migration_leaves_nothing_half_done(
    database_dsn: str, tmp_path: Path
) -> None:
    _write(tmp_path, "0001_bad.sql", "CREATE TABLE public.m_bad (id int); SELECT 1/0;")
    with pytest.raises(asyncpg.DivisionByZeroError):
        await migrate(database_dsn, "bad", tmp_path)
    conn = await asyncpg.connect(database_dsn)
    try:
        assert await conn.fetchval("SELECT to_regclass('public.m_bad')") is None
    finally:
        await conn.close()


async def test_concurrent_replicas_apply_each_file_once(database_dsn: str, tmp_path: Path) -> None:
    # Not idempotent on purpose: a second run of 0002 would fail on the primary key.
    _write(tmp_path, "0001_create.sql", "CREATE TABLE public.m_race (id int PRIMARY KEY);")
    _write(tmp_path, "0002_insert.sql", "INSERT INTO public.m_race VALUES (1);")
    results = await asyncio.gather(*(migrate(database_dsn, "race", tmp_path) for _ in range(6)))
    applied = [name for result in results for name in result]
    assert sorted(applied) == ["0001_create.sql", "0002_insert.sql"]


def test_badly_named_files_are_refused(tmp_path: Path) -> None:
    _write(tmp_path, "create_things.sql", "SELECT 1;")
    with pytest.raises(MigrationError, match=r"NNNN_lower_snake\.sql"):
        load_migrations(tmp_path)


def test_every_service_migration_is_well_named() -> None:
    root = Path(__file__).resolve().parents[2] / "services"
    for directory in root.glob("*/migrations"):
        assert load_migrations(directory), directory
