"""Runs the fake providers on a free port, in the test's event loop."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tests.support.fake_providers.app import FakeProviders
from tests.support.http_server import serve_asgi


@asynccontextmanager
async def serve_fake_providers() -> AsyncIterator[FakeProviders]:
    fake = FakeProviders()
    async with serve_asgi(fake.app) as base_url:
        fake.base_url = base_url
        yield fake
