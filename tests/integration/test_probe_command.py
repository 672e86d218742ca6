"""`tripsage probe ADDRESS [SERVICE]`, the container image's health check, run as the
image runs it (`python -m tripsage.container probe ...`) against a real auth server."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.support.auth_suite import start_suite
from tests.support.suite import RunningSuite

pytestmark = pytest.mark.database


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def suite(
    database_dsn: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningSuite]:
    running = await start_suite(database_dsn, redis_url, tmp_path_factory.mktemp("data"))
    yield running
    await running.stop()


async def _probe(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("GRPC_", "PORT"))},
        "ENVIRONMENT": "testing",
        "TRIPSAGE_DATA_DIR": str(tmp_path),
    }
    command = [sys.executable, "-m", "tripsage.container", "probe", *args]
    return await asyncio.to_thread(
        subprocess.run, command, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("service", [[], ["auth"], ["tripsage.auth.v1.AuthService"]])
async def test_a_serving_server_passes(
    suite: RunningSuite, tmp_path: Path, service: list[str]
) -> None:
    result = await _probe(tmp_path, suite.address("auth"), *service)
    assert result.returncode == 0, result.stderr
    assert "SERVING" in result.stdout


async def test_a_service_the_server_does_not_serve_fails(
    suite: RunningSuite, tmp_path: Path
) -> None:
    result = await _probe(tmp_path, suite.address("auth"), "tripsage.trips.v1.TripService")
    assert result.returncode == 1
    assert "NOT_FOUND" in result.stderr


async def test_nothing_listening_fails(tmp_path: Path) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    result = await _probe(tmp_path, f"127.0.0.1:{port}", "auth")
    assert result.returncode == 1
    assert "UNAVAILABLE" in result.stderr
