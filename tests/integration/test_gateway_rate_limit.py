"""Per-caller rate limits at the gateway, counted in a real Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn

from gateway.app import create_app
from gateway.rate_limit import RateLimiter
from tripsage_core.cache import create_redis
from tripsage_core.embedded import free_port
from tripsage_core.service_registry import SERVICES

pytestmark = pytest.mark.database


async def _serve(limiter: RateLimiter) -> AsyncIterator[str]:
    dead = f"127.0.0.1:{free_port()}"  # no service needed: limits apply before the call
    app = create_app({service.grpc_service: dead for service in SERVICES}, rate_limiter=limiter)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def gateway_url(redis_url: str) -> AsyncIterator[str]:
    limiter = RateLimiter(
        create_redis(redis_url), per_minute=5, prefix=f"test-ratelimit-{uuid.uuid4().hex}"
    )
    async for url in _serve(limiter):
        yield url


async def test_a_caller_over_the_limit_gets_429_with_retry_after(gateway_url: str) -> None:
    async with httpx.AsyncClient(base_url=gateway_url) as http:
        ana = {"authorization": "Bearer ana-token"}
        statuses = [(await http.get("/api/v1/trips", headers=ana)).status_code for _ in range(5)]
        assert 429 not in statuses
        refused = await http.get("/api/v1/trips", headers=ana)
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        error = refused.json()["error"]
        assert error["status"] == "RESOURCE_EXHAUSTED"
        assert any(d.get("reason") == "RATE_LIMITED" for d in error["details"])
        # Another caller has a bucket of their own; health stays reachable.
        other = await http.get("/api/v1/trips", headers={"x-api-key": "tsk_other"})
        assert other.status_code != 429
        assert (await http.get("/api/health")).status_code != 429


async def test_requests_pass_when_redis_is_down() -> None:
    limiter = RateLimiter(create_redis(f"redis://127.0.0.1:{free_port()}/0"), per_minute=1)
    async for url in _serve(limiter):
        async with httpx.AsyncClient(base_url=url) as http:
            statuses = {(await http.get("/api/v1/trips")).status_code for _ in range(3)}
        assert 429 not in statuses
