"""`tripsage verify-connection` and `verify-setup` (scripts/verification/*.py) against the
real suite: a pass line for each check when all is well, a fail line and a non-zero exit
for what is not."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio

from tests.support.auth_suite import cli_env, run_cli
from tests.support.suite import RunningSuite, make_settings, whole_suite
from tripsage_core.database import with_database
from tripsage_core.embedded import free_port
from tripsage_core.service_registry import SERVICE_NAMES

pytestmark = pytest.mark.database


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def suite(
    database_dsn: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningSuite]:
    async with whole_suite(
        make_settings(database_dsn, redis_url, tmp_path_factory.mktemp("data"))
    ) as running:
        yield running


def _env(suite: RunningSuite, tmp_path: Path) -> dict[str, str]:
    assert suite.settings.redis_url is not None
    return {
        **cli_env(suite, tmp_path),
        "REDIS_URL": suite.settings.redis_url.get_secret_value(),
        **{f"{name.upper()}_SERVICE_ADDR": suite.address(name) for name in SERVICE_NAMES},
    }


async def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The command in another process while this loop keeps serving the suite."""
    return await asyncio.to_thread(run_cli, env, *args)


def _lines(stdout: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in stdout.splitlines():
        if line.startswith(("PASS", "FAIL")):
            verdict, rest = line.split(None, 1)
            found[rest.split(":", 1)[0]] = verdict
    return found


async def test_a_healthy_suite_passes_every_check(suite: RunningSuite, tmp_path: Path) -> None:
    done = await _cli(_env(suite, tmp_path), "verify-setup")
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    lines = _lines(done.stdout)
    expected = {"settings", "database", "cache", "assistant model"}
    expected |= {f"service {name}" for name in SERVICE_NAMES}
    expected |= {f"migrations {name}" for name in ("auth", "trips", "assistant")}
    assert expected <= set(lines)
    assert set(lines.values()) == {"PASS"}
    assert "provider duffel (flights, stays): sandbox" in done.stdout
    assert "assistant model: offline planner" in done.stdout
    assert "PostgreSQL" in done.stdout
    assert f"{len(lines)} passed, 0 failed" in done.stdout


async def test_a_stopped_service_and_an_unmigrated_database_fail_their_lines(
    suite: RunningSuite, tmp_path: Path, postgres_admin_dsn: str
) -> None:
    env = {**_env(suite, tmp_path), "TRIPS_SERVICE_ADDR": f"127.0.0.1:{free_port()}"}
    env["POSTGRES_URL"] = with_database(postgres_admin_dsn, "postgres")  # no TripSage schemas
    done = await _cli(env, "verify-setup")
    assert done.returncode == 1
    lines = _lines(done.stdout)
    assert lines["service trips"] == "FAIL"
    assert lines["service auth"] == "PASS"
    assert lines["migrations trips"] == "FAIL"
    assert "not applied: 0001_trips_with_rls.sql" in done.stdout
    assert lines["database"] == "PASS"


async def test_verify_connection_names_the_server_that_does_not_answer(
    suite: RunningSuite, tmp_path: Path
) -> None:
    env = {
        **_env(suite, tmp_path),
        "POSTGRES_URL": f"postgresql://postgres@127.0.0.1:{free_port()}/tripsage",
    }
    done = await _cli(env, "verify-connection")
    assert done.returncode == 1
    assert _lines(done.stdout) == {"database": "FAIL", "cache": "PASS"}
    assert "1 passed, 1 failed" in done.stdout
    # The database the suite uses is reachable (sanity of the failure above).
    assert suite.settings.postgres_url is not None
    conn = await asyncpg.connect(suite.settings.postgres_url.get_secret_value())
    await conn.close()
