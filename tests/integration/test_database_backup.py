"""`tripsage backup` and `tripsage restore` (scripts/database/*.py) on a populated database.

The dump is restored into another database; every row of every TripSage schema
comes back identical, and a service started on the restored database decrypts
the provider keys stored before the backup.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import grpc
import httpx
import pytest
import pytest_asyncio

from tests.support.accounts import Account, register, verified
from tests.support.auth_suite import ROOT, cli_env, run_cli, start_suite
from tests.support.suite import JWT_SECRET, RunningSuite, make_settings, whole_suite
from tests.support.trips import create_trip, share
from tripsage.backups import HEADER_MARK, row_counts
from tripsage.trips.v1 import trip_service_pb2_grpc as trips_grpc
from tripsage_core.database import with_database
from tripsage_core.grpc_kit.auth_calls import user_provider_key

pytestmark = pytest.mark.database

OPENAI_KEY = "sk-test-backup-0123456789abcdefghij"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def suite(
    database_dsn: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningSuite]:
    async with whole_suite(
        make_settings(database_dsn, redis_url, tmp_path_factory.mktemp("data"))
    ) as running:
        yield running


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def populated(suite: RunningSuite) -> Account:
    """Users, a shared trip with an item, a provider key and a conversation."""
    ana = await verified(suite, await register(suite.address("auth"), "ana"))
    bob = await verified(suite, await register(suite.address("auth"), "bob"))
    async with httpx.AsyncClient(base_url=suite.gateway_url, timeout=30) as http:
        stored = await http.put(
            "/api/v1/users/me/provider-keys/PROVIDER_SERVICE_OPENAI",
            json={"apiKey": OPENAI_KEY},
            headers=ana.headers,
        )
        assert stored.is_success, stored.text
        async with grpc.aio.insecure_channel(suite.address("trips")) as channel:
            stub = trips_grpc.TripServiceStub(channel)
            trip = await create_trip(stub, ana, title="Porto")
            await share(stub, ana, trip.id, bob, "edit")
        item = await http.post(
            f"/api/v1/trips/{trip.id}/items",
            json={
                "kind": "ITINERARY_ITEM_KIND_ACTIVITY",
                "title": "Port cellar",
                "startTime": "2027-05-02T17:00:00Z",
                "timeZone": "Europe/Lisbon",
            },
            headers=ana.headers,
        )
        assert item.is_success, item.text
        talk = await http.post(
            "/api/v1/conversations", json={"title": "Porto", "tripId": trip.id}, headers=ana.headers
        )
        assert talk.is_success, talk.text
    return ana


async def _fresh_database(admin_dsn: str) -> str:
    name = f"tripsage_restore_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return with_database(admin_dsn, name)


async def _table_digests(dsn: str) -> dict[str, tuple[int, str]]:
    """Each table's row count and a digest of its rows in a stable order."""
    conn: asyncpg.Connection[Any] = await asyncpg.connect(dsn)
    try:
        found: dict[str, tuple[int, str]] = {}
        for table in await row_counts(dsn):
            name = f'"{table.schema}"."{table.table}"'
            digest = await conn.fetchval(
                f"SELECT md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), ''))"
                f" FROM {name} t"  # names from the catalog
            )
            found[f"{table.schema}.{table.table}"] = (table.rows, digest)
        return found
    finally:
        await conn.close()


def _env_for(suite: RunningSuite, dsn: str, data_dir: Path) -> dict[str, str]:
    return {**cli_env(suite, data_dir), "POSTGRES_URL": dsn}


async def test_a_backup_restores_every_row_and_the_keys_still_decrypt(
    suite: RunningSuite,
    populated: Account,
    postgres_admin_dsn: str,
    redis_url: str,
    tmp_path: Path,
) -> None:
    settings = suite.settings
    assert settings.postgres_url is not None
    source = settings.postgres_url.get_secret_value()
    dump = tmp_path / "backup.sql"
    made = run_cli(cli_env(suite, tmp_path), "backup", "--output", str(dump))
    assert made.returncode == 0, made.stderr
    assert "backed up" in made.stdout
    assert "tripsage_trips.trips: 1 rows" in made.stdout
    assert dump.read_text().startswith(HEADER_MARK)
    assert dump.stat().st_mode & 0o077 == 0  # password hashes and encrypted keys inside
    assert OPENAI_KEY not in dump.read_text()

    target = await _fresh_database(postgres_admin_dsn)
    restored = subprocess.run(  # the script path the operators reference names
        [sys.executable, "scripts/database/restore.py", str(dump)],
        cwd=ROOT,
        env={**os.environ, **_env_for(suite, target, tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert restored.returncode == 0, restored.stderr
    assert "restored" in restored.stdout
    before, after = await _table_digests(source), await _table_digests(target)
    assert after == before
    assert before["tripsage_trips.itinerary_items"][0] == 1
    assert before["tripsage_auth.provider_keys"][0] == 1
    assert before["tripsage_meta.schema_migrations"][0] > 0

    # A service on the restored database, with the same SECRET_KEY, decrypts the key.
    running = await start_suite(target, redis_url, tmp_path / "restored", ("auth",))
    try:
        assert await user_provider_key(running.settings, populated.id, "openai") == OPENAI_KEY
    finally:
        await running.stop()


async def test_restore_refuses_a_database_that_has_the_schemas_unless_clean(
    suite: RunningSuite, populated: Account, postgres_admin_dsn: str, tmp_path: Path
) -> None:
    dump = tmp_path / "backup.sql"
    assert run_cli(cli_env(suite, tmp_path), "backup", "--output", str(dump)).returncode == 0
    target = await _fresh_database(postgres_admin_dsn)
    env = _env_for(suite, target, tmp_path)
    assert run_cli(env, "restore", str(dump)).returncode == 0
    again = run_cli(env, "restore", str(dump))
    assert again.returncode == 1
    assert "already has tripsage_assistant, tripsage_auth," in again.stderr
    assert "--clean" in again.stderr
    conn = await asyncpg.connect(target)
    try:
        await conn.execute("DELETE FROM tripsage_trips.itinerary_items")
    finally:
        await conn.close()
    clean = run_cli(env, "restore", str(dump), "--clean")
    assert clean.returncode == 0, clean.stderr
    assert (await _table_digests(target))["tripsage_trips.itinerary_items"][0] == 1


async def test_a_broken_backup_changes_nothing_and_says_why(
    suite: RunningSuite, populated: Account, postgres_admin_dsn: str, tmp_path: Path
) -> None:
    dump = tmp_path / "backup.sql"
    assert run_cli(cli_env(suite, tmp_path), "backup", "--output", str(dump)).returncode == 0
    text = dump.read_text()
    cut = tmp_path / "cut.sql"
    cut.write_text(text[: len(text) * 2 // 3] + "\nTHIS IS NOT SQL;\n")
    target = await _fresh_database(postgres_admin_dsn)
    env = _env_for(suite, target, tmp_path)
    failed = run_cli(env, "restore", str(cut))
    assert failed.returncode == 1
    assert "restore failed, nothing was changed" in failed.stderr
    assert await row_counts(target) == []  # not one schema was left behind

    stranger = tmp_path / "other.sql"
    stranger.write_text("CREATE TABLE x (y int);\n")
    refused = run_cli(env, "restore", str(stranger))
    assert refused.returncode == 1
    assert "is not a TripSage backup" in refused.stderr
    missing = run_cli(env, "restore", str(tmp_path / "nowhere.sql"))
    assert missing.returncode == 1
    assert "nowhere.sql" in missing.stderr


def test_without_postgres_url_the_commands_use_the_embedded_server_of_the_data_dir(
    tmp_path: Path,
) -> None:
    env = {
        "ENVIRONMENT": "testing",
        "TRIPSAGE_DATA_DIR": str(tmp_path / "data"),
        "POSTGRES_URL": "",
        "REDIS_URL": "",
    }
    empty = run_cli(env, "backup")
    assert empty.returncode == 1
    assert "run `tripsage migrate` first" in empty.stderr
    migrated = run_cli(env, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert "trips: 0001_trips_with_rls.sql" in migrated.stdout
    made = run_cli(env, "backup")
    assert made.returncode == 0, made.stderr
    backups = list((tmp_path / "data" / "backups").glob("tripsage-*.sql"))
    assert len(backups) == 1
    assert str(backups[0]) in made.stdout
    # Each command stopped the server it started: the data directory is free again.
    assert not (tmp_path / "data" / "postgres" / "postmaster.pid").exists()


async def test_the_full_archive_checks_out_hides_secrets_and_its_dump_restores(
    suite: RunningSuite, populated: Account, postgres_admin_dsn: str, tmp_path: Path
) -> None:
    settings = suite.settings
    assert settings.postgres_url is not None
    assert settings.secret_key is not None
    logs = tmp_path / "logs"
    logs.mkdir()
    log_line = '{"time": "2026-12-04T20:00:00+00:00", "level": "INFO", "message": "started"}\n'
    (logs / "auth.log").write_text(log_line)
    (logs / "auth.log.1").write_text(log_line)
    env = {**cli_env(suite, tmp_path), "LOG_DIR": str(logs)}
    archive_path = tmp_path / "full.tar.gz"
    made = subprocess.run(  # the script path the operators reference names
        [sys.executable, "scripts/backup/create_backup.py", "--output", str(archive_path)],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    assert "archived 4 members" in made.stdout
    assert archive_path.stat().st_mode & 0o077 == 0

    with tarfile.open(archive_path, "r:gz") as archive:
        members = {
            info.name: archive.extractfile(info).read()  # type: ignore[union-attr]
            for info in archive.getmembers()
        }
    manifest = json.loads(members.pop("manifest.json"))
    assert manifest["version"] == "0.1.0"
    assert {m["name"] for m in manifest["members"]} == set(members)
    for member in manifest["members"]:
        content = members[member["name"]]
        assert len(content) == member["size"]
        assert hashlib.sha256(content).hexdigest() == member["sha256"]
    assert members["logs/auth.log"].decode() == log_line

    password = urlsplit(settings.postgres_url.get_secret_value()).password  # none in tests
    secrets = [settings.secret_key.get_secret_value(), JWT_SECRET, OPENAI_KEY]
    secrets += [password] if password else []
    config = json.loads(members["configuration.json"])
    assert config["SECRET_KEY"] == "<redacted>"
    for name, content in members.items():
        text = content.decode()
        for secret in secrets if name != "database.sql" else [OPENAI_KEY]:
            assert secret not in text, f"{name} holds a secret"

    verified_ok = run_cli(env, "verify-backup", str(archive_path))
    assert verified_ok.returncode == 0, verified_ok.stderr
    assert "verified 4 members" in verified_ok.stdout
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(damaged, "w:gz") as out:
        for name, content in {**members, "manifest.json": json.dumps(manifest).encode()}.items():
            body = content.replace(b"started", b"STARTED") if name == "logs/auth.log" else content
            info = tarfile.TarInfo(name)
            info.size = len(body)
            out.addfile(info, io.BytesIO(body))
    refused = run_cli(env, "verify-backup", str(damaged))
    assert refused.returncode == 1
    assert "logs/auth.log does not match its checksum" in refused.stderr

    dump = tmp_path / "from-archive.sql"
    dump.write_bytes(members["database.sql"])
    target = await _fresh_database(postgres_admin_dsn)
    restored = run_cli(_env_for(suite, target, tmp_path), "restore", str(dump))
    assert restored.returncode == 0, restored.stderr
    assert await _table_digests(target) == await _table_digests(
        settings.postgres_url.get_secret_value()
    )
