"""A RunningSuite with only the services an auth test needs, and the operator CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.support.suite import JWT_SECRET, RunningSuite, make_settings


async def start_suite(
    database_dsn: str,
    redis_url: str,
    data_dir: Path,
    services: Sequence[str] = ("auth",),
    **overrides: Any,
) -> RunningSuite:
    running = RunningSuite(make_settings(database_dsn, redis_url, data_dir, **overrides))
    try:
        for name in services:
            await running.start_service(name)
        await running.start_gateway()
    except BaseException:
        await running.stop()
        raise
    return running


ROOT = Path(__file__).resolve().parents[2]


def run_cli(settings_env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The `tripsage` command in a fresh process, as an operator runs it."""
    return subprocess.run(
        [sys.executable, "-m", "tripsage.cli", *args],
        cwd=ROOT,
        env={**os.environ, **settings_env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def cli_env(suite: RunningSuite, data_dir: Path) -> dict[str, str]:
    """The environment that points the command at the suite's database and secrets."""
    settings = suite.settings
    assert settings.postgres_url is not None
    assert settings.secret_key is not None
    return {
        "ENVIRONMENT": "testing",
        "POSTGRES_URL": settings.postgres_url.get_secret_value(),
        "SECRET_KEY": settings.secret_key.get_secret_value(),
        "DATABASE_JWT_SECRET": JWT_SECRET,
        "TRIPSAGE_DATA_DIR": str(data_dir),
    }
