"""Per-caller rate limits at the gateway, counted in a real Redis.

Only identities the gateway has verified get buckets of their own: the user of
a valid access token, or an API key auth has resolved. Anything else a request
claims (a made-up bearer token or tsk_ key) counts against its client address.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator

import grpc
import httpx
import pytest
import pytest_asyncio

from gateway.app import create_app
from gateway.callers import GatewayCallers, gateway_callers
from gateway.discovery import upstream_addresses
from gateway.rate_limit import RateLimiter
from tests.integration.gateway_support.servers import http_server
from tests.support.accounts import register
from tests.support.auth_suite import start_suite
from tests.support.suite import JWT_SECRET, RunningSuite
from tripsage.auth.v1 import auth_service_pb2 as auth_pb
from tripsage.auth.v1 import auth_service_pb2_grpc as auth_grpc
from tripsage_core.cache import create_redis
from tripsage_core.embedded import free_port
from tripsage_core.identity import AccessTokens, Role
from tripsage_core.service_registry import SERVICES

pytestmark = pytest.mark.database

LIMIT = 5


def _limiter(redis_url: str) -> RateLimiter:
    return RateLimiter(
        create_redis(redis_url), per_minute=LIMIT, prefix=f"test-ratelimit-{uuid.uuid4().hex}"
    )


def _token(user_id: str | None = None) -> dict[str, str]:
    issued = AccessTokens(JWT_SECRET).issue(
        user_id=user_id or str(uuid.uuid4()),
        email="ana@example.com",
        role=Role.USER,
        session_id=uuid.uuid4().hex,
    )
    return {"authorization": f"Bearer {issued.token}"}


@pytest.fixture
async def gateway_url(redis_url: str) -> AsyncIterator[str]:
    """A gateway whose upstreams are down: limits apply before any call."""
    dead = f"127.0.0.1:{free_port()}"
    app = create_app(
        {service.grpc_service: dead for service in SERVICES},
        rate_limiter=_limiter(redis_url),
        callers=GatewayCallers(AccessTokens(JWT_SECRET)),
    )
    async with http_server(app) as url:
        yield url


async def test_a_verified_user_over_the_limit_gets_429_with_retry_after(
    gateway_url: str,
) -> None:
    async with httpx.AsyncClient(base_url=gateway_url) as http:
        ana = _token()
        statuses = [(await http.get("/api/v1/trips", headers=ana)).status_code for _ in range(5)]
        assert 429 not in statuses
        refused = await http.get("/api/v1/trips", headers=ana)
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        error = refused.json()["error"]
        assert error["status"] == "RESOURCE_EXHAUSTED"
        assert any(d.get("reason") == "RATE_LIMITED" for d in error["details"])
        # Another verified user, and the address itself, have buckets of their own;
        # health stays reachable.
        assert (await http.get("/api/v1/trips", headers=_token())).status_code != 429
        assert (await http.get("/api/v1/trips")).status_code != 429
        assert (await http.get("/api/health")).status_code != 429


@pytest.mark.parametrize(
    "made_up",
    [
        lambda: {"authorization": f"Bearer {secrets.token_urlsafe(24)}"},
        lambda: {"authorization": f"Bearer {_token()['authorization'][7:-4]}AAAA"},  # bad sig
        lambda: {"x-api-key": f"tsk_{secrets.token_urlsafe(24)}"},
    ],
    ids=["random-bearer", "forged-jwt", "random-api-key"],
)
async def test_a_new_made_up_credential_per_request_counts_against_the_address(
    gateway_url: str, made_up: object
) -> None:
    assert callable(made_up)
    async with httpx.AsyncClient(base_url=gateway_url) as http:
        statuses = []
        for index in range(LIMIT + 2):
            path = "/api/v1/auth/register" if index % 2 else "/api/v1/auth/login"
            reply = await http.post(path, json={"email": "a@example.com"}, headers=made_up())
            statuses.append(reply.status_code)
        assert 429 not in statuses[:LIMIT]
        assert statuses[LIMIT:] == [429, 429]
        # A verified user from the same address still has a bucket of their own.
        assert (await http.get("/api/v1/trips", headers=_token())).status_code != 429


async def test_requests_pass_when_redis_is_down() -> None:
    limiter = RateLimiter(create_redis(f"redis://127.0.0.1:{free_port()}/0"), per_minute=1)
    dead = f"127.0.0.1:{free_port()}"
    app = create_app({service.grpc_service: dead for service in SERVICES}, rate_limiter=limiter)
    async with http_server(app) as url, httpx.AsyncClient(base_url=url) as http:
        statuses = {(await http.get("/api/v1/trips")).status_code for _ in range(3)}
    assert 429 not in statuses


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def suite(
    database_dsn: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningSuite]:
    running = await start_suite(
        database_dsn, redis_url, tmp_path_factory.mktemp("data"), api_key_cache_seconds=60
    )
    yield running
    await running.stop()


async def test_an_api_key_auth_resolved_gets_its_own_bucket(
    suite: RunningSuite, redis_url: str
) -> None:
    owner = await register(suite.address("auth"), "keys")
    async with grpc.aio.insecure_channel(suite.address("auth")) as channel:
        created = await auth_grpc.AuthServiceStub(channel).CreateApiKey(
            auth_pb.CreateApiKeyRequest(api_key=auth_pb.ApiKey(name="server")),
            metadata=owner.metadata,
        )
    real_key = {"x-api-key": created.secret}
    app = create_app(
        upstream_addresses(suite.settings),
        rate_limiter=_limiter(redis_url),
        callers=gateway_callers(suite.settings),
    )
    async with http_server(app) as url, httpx.AsyncClient(base_url=url) as http:
        # Its first request counts against the address, and auth resolves the key.
        first = await http.get("/api/v1/users/me", headers=real_key)
        assert first.status_code == 200, first.text
        # Made-up keys use up the rest of the address's requests ...
        for _ in range(LIMIT - 1):
            fake = {"x-api-key": f"tsk_{secrets.token_urlsafe(24)}"}
            assert (await http.get("/api/v1/users/me", headers=fake)).status_code == 401
        fake = {"x-api-key": f"tsk_{secrets.token_urlsafe(24)}"}
        assert (await http.get("/api/v1/users/me", headers=fake)).status_code == 429
        # ... while the resolved key counts against its own bucket.
        again = [
            (await http.get("/api/v1/users/me", headers=real_key)).status_code for _ in range(LIMIT)
        ]
        assert again == [200] * LIMIT
        assert (await http.get("/api/v1/users/me", headers=real_key)).status_code == 429


async def test_replicas_counting_in_batches_never_admit_more_than_the_limit(
    redis_url: str,
) -> None:
    """Three gateway processes share one caller's bucket; each counts ahead in batches.

    Every admitted request was counted in Redis first, so together they admit at
    most the limit, and refuse early by at most batch - 1 requests each.
    """
    limit, prefix = 1000, f"test-ratelimit-{uuid.uuid4().hex}"
    replicas = [
        RateLimiter(create_redis(redis_url), per_minute=limit, prefix=prefix) for _ in "abc"
    ]
    batch = replicas[0].batch
    assert batch == 10
    now = 60.0 * 1_000_000 + 1  # early in a window with no previous one
    admitted = 0
    for index in range(limit + 200):
        decision = await replicas[index % 3].check("user:shared", now=now)
        admitted += decision.allowed
    assert limit - 3 * (batch - 1) <= admitted <= limit
    refused = [await replica.check("user:shared", now=now) for replica in replicas]
    assert not any(decision.allowed for decision in refused)
    assert all(decision.retry_after == 59 for decision in refused)  # the window ends in 59 s
