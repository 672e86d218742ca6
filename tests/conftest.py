"""Real backing servers for the tests: embedded, or TEST_POSTGRES_URL / TEST_REDIS_URL."""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
import redis

from tests.support.suite import RunningSuite, make_settings, whole_suite
from tripsage_core.database import with_database
from tripsage_core.embedded import EmbeddedPostgres, EmbeddedValkey


@pytest.fixture(scope="session")
def backing_dir() -> Iterator[Path]:
    # Not under pytest's basetemp: the embedded PostgreSQL runs as another system
    # user when tests run as root, and pytest's basetemp is private (0700) and
    # pruned by concurrent pytest runs.
    path = Path(tempfile.mkdtemp(prefix="tripsage-test-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def readable_tmp_dir() -> Iterator[Path]:
    """A directory of one test's own (a `tripsage up` data dir, its own PostgreSQL), readable
    by the embedded PostgreSQL's system user like `backing_dir`."""
    path = Path(tempfile.mkdtemp(prefix="tripsage-e2e-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_admin_dsn(backing_dir: Path) -> Iterator[str]:
    """A PostgreSQL server for the session: TEST_POSTGRES_URL's, or an embedded one."""
    if url := os.environ.get("TEST_POSTGRES_URL"):
        yield url
        return
    server = EmbeddedPostgres(backing_dir)
    dsn = server.start()
    try:
        yield dsn
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_url(backing_dir: Path) -> Iterator[str]:
    if url := os.environ.get("TEST_REDIS_URL"):
        # The database named there belongs to the tests: emptied first, so counters an
        # earlier run left (sign-in and rate limits per address) cannot refuse this one.
        client = redis.Redis.from_url(url)
        try:
            client.flushdb()
        finally:
            client.close()
        yield url
        return
    server = EmbeddedValkey(backing_dir, persist=False)
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def database_dsn(postgres_admin_dsn: str) -> AsyncIterator[str]:
    """A fresh, empty database for one test module, dropped afterwards."""
    name = f"tripsage_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(postgres_admin_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield with_database(postgres_admin_dsn, name)
    finally:
        admin = await asyncpg.connect(postgres_admin_dsn)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def suite(
    database_dsn: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningSuite]:
    """All four services and the gateway, in this process, on a fresh database."""
    async with whole_suite(
        make_settings(database_dsn, redis_url, tmp_path_factory.mktemp("data"))
    ) as running:
        yield running


# Provider keys the tests store or configure (BYOK and server keys). No log line
# of the whole run may contain one in plain text: a leak fails the session.
_PLAINTEXT_KEY = re.compile(
    r"sk-(?:test|proj|rotation|wrong-provider)[-A-Za-z0-9]{8,}|duffel_test_[A-Za-z0-9_]{8,}"
    r"|m0-test[-A-Za-z0-9]{8,}"
)


class _KeyLeakWatch(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.leaks: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage() + " " + " ".join(map(str, record.__dict__.values()))
        except Exception:  # a malformed record is not ours to judge here
            return
        if _PLAINTEXT_KEY.search(text):
            self.leaks.append(f"{record.name}: {record.getMessage()[:200]}")


@pytest.fixture(scope="session", autouse=True)
def no_provider_key_in_any_log() -> Iterator[None]:
    watch = _KeyLeakWatch()
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(watch)
    root.setLevel(min(previous_level, logging.INFO))
    try:
        yield
    finally:
        root.removeHandler(watch)
        root.setLevel(previous_level)
    assert watch.leaks == [], "provider keys reached the logs"
