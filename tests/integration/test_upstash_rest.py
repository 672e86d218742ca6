"""Redis over Upstash's REST API (issue 14, managed backends): with UPSTASH_REDIS_REST_URL and
_TOKEN set and no REDIS_URL, the cache, rate limits, sign-in limits and revocations go over
HTTP to a server speaking Upstash's protocol (tests/support/upstash_server.py) in front of
the tests' real Valkey."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import grpc
import httpx
import pytest
import pytest_asyncio
import redis.asyncio as redis
from pydantic import ValidationError
from redis.exceptions import AuthenticationError, ConnectionError, NoScriptError, ResponseError

from gateway.app import create_app
from gateway.callers import gateway_callers
from gateway.discovery import upstream_addresses
from gateway.rate_limit import RateLimiter
from tests.support.accounts import PASSWORD, register, unique_email
from tests.support.http_server import serve_asgi
from tests.support.suite import RunningSuite, make_settings, whole_suite
from tests.support.upstash_server import UpstashRestServer, upstash_rest
from tripsage.launcher import Suite
from tripsage.trips.v1 import trip_service_pb2 as trips_pb
from tripsage.trips.v1 import trip_service_pb2_grpc as trips_grpc
from tripsage.verification import check_redis
from tripsage_core.cache import ping, redis_from_settings
from tripsage_core.config import Settings, load_settings
from tripsage_core.embedded import free_port
from tripsage_core.errors import Unauthenticated
from tripsage_core.grpc_kit.tls import channel_credentials
from tripsage_core.identity import Principal
from tripsage_core.rate_limit import WindowCounter
from tripsage_core.revocations import TRUST_SECONDS, Revocations
from tripsage_core.runtime import ServiceRuntime
from tripsage_core.service_credentials import service_credentials
from tripsage_core.upstash import UpstashRedis

pytestmark = pytest.mark.database

TOKEN = "upstash-test-token-0123456789"
MAX_PER_ACCOUNT = 3
GATEWAY_LIMIT = 4


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def rest(redis_url: str) -> AsyncIterator[tuple[str, UpstashRestServer]]:
    async with upstash_rest(redis_url, TOKEN) as served:
        yield served


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def suite(
    database_dsn: str,
    rest: tuple[str, UpstashRestServer],
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[RunningSuite]:
    """The whole suite configured for REST only (REDIS_URL unset)."""
    url, _ = rest
    settings = make_settings(
        database_dsn,
        "",  # no REDIS_URL
        tmp_path_factory.mktemp("data"),
        upstash_redis_rest_url=url,
        upstash_redis_rest_token=TOKEN,
        login_slowdown_after_failures=100,  # the limit is under test, not the delays
        login_max_failures_per_account=MAX_PER_ACCOUNT,
        travel_local_cache_seconds=0,  # a repeated search is answered by Redis, not memory
    )
    assert settings.redis_url is None
    async with whole_suite(settings) as running:
        yield running


@pytest.fixture
async def client(rest: tuple[str, UpstashRestServer]) -> AsyncIterator[UpstashRedis]:
    upstash = UpstashRedis(rest[0], TOKEN)
    yield upstash
    await upstash.aclose()


def _key(name: str) -> str:
    return f"test-upstash:{uuid.uuid4().hex}:{name}"


# -- the adapter: replies exactly as over RESP -------------------------------------------


async def test_commands_reply_as_over_resp_binary_values_included(
    client: UpstashRedis, rest: tuple[str, UpstashRestServer], redis_url: str
) -> None:
    server = rest[1]
    key, text_key = _key("binary"), _key("text")
    payload = b"\x00\xff\xfe protobuf \x80"
    paths_before = server.requests["path"]
    assert await client.set(key, payload, ex=60) is True
    assert server.requests["path"] == paths_before + 1  # non-UTF-8: the documented path form
    assert await client.get(key) == payload
    assert await client.set(text_key, "héllo") is True
    assert await client.mget([key, text_key, _key("absent")]) == [payload, "héllo".encode(), None]
    assert 0 < await client.ttl(key) <= 60
    assert await client.ping() is True
    # Read-your-writes: the sync token of the last reply went out with the next request.
    assert server.sync_tokens_seen[-1] == f"sync-{server._sync - 1}"
    # What REST wrote is what a RESP client reads from the same Redis.
    direct = redis.Redis.from_url(redis_url)
    try:
        assert await direct.get(key) == payload
        assert await direct.ttl(key) > 0
    finally:
        await direct.aclose()


async def test_errors_are_redis_errors(client: UpstashRedis) -> None:
    key = _key("text")
    await client.set(key, "not a number")
    with pytest.raises(ResponseError, match="not an integer"):
        await client.incr(key)
    with pytest.raises(NoScriptError):
        await client.evalsha("0" * 40, 0)


async def test_pipeline_and_transaction_go_as_one_request_each(
    client: UpstashRedis, rest: tuple[str, UpstashRestServer]
) -> None:
    server = rest[1]
    key, counter = _key("hash"), _key("counter")
    before = (server.requests["/pipeline"], server.requests["/multi-exec"])
    async with client.pipeline(transaction=False) as pipe:
        pipe.hincrby(key, "flights:hit", 2)
        pipe.hincrby(key, "flights:miss", 1)
        pipe.hgetall(key)
        pipe.incr(key)  # a hash: fails on its own, the rest stands
        replies = await pipe.execute(raise_on_error=False)
    assert replies[:3] == [2, 1, {b"flights:hit": b"2", b"flights:miss": b"1"}]
    assert isinstance(replies[3], ResponseError)

    limits = WindowCounter(client, prefix=counter, window_seconds=60)  # MULTI: INCR, EXPIRE, PTTL
    first, again = await limits.hit(["a"]), await limits.hit(["a"])
    assert [first[0].count, again[0].count] == [1, 2]
    assert 0 < again[0].retry_after_seconds <= 60
    await limits.give_back("a")  # EVAL
    assert (await limits.hit(["a"]))[0].count == 2
    assert (server.requests["/pipeline"], server.requests["/multi-exec"]) == (
        before[0] + 1,
        before[1] + 3,
    )


async def test_registered_scripts_load_themselves_once(client: UpstashRedis) -> None:
    script = client.register_script(f"-- {uuid.uuid4()}\nreturn {{KEYS[1], ARGV[1]}}")
    key = _key("script")
    # NOSCRIPT the first time (over REST as over RESP), then SCRIPT LOAD and EVALSHA.
    assert await script(keys=[key], args=["one"]) == [key.encode(), b"one"]
    assert await script(keys=[key], args=["two"]) == [key.encode(), b"two"]


async def test_scan_finds_keys_written_over_rest(client: UpstashRedis) -> None:
    prefix = _key("scan")
    for index in range(5):
        await client.set(f"{prefix}:{index}", index)
    found = sorted([key async for key in client.scan_iter(match=f"{prefix}:*", count=2)])
    assert found == [f"{prefix}:{index}".encode() for index in range(5)]
    assert await client.unlink(*found) == 5


async def test_a_wrong_token_is_refused_clearly_and_fails_health(
    rest: tuple[str, UpstashRestServer], database_dsn: str
) -> None:
    wrong = UpstashRedis(rest[0], "not-the-token")
    try:
        with pytest.raises(AuthenticationError, match="UPSTASH_REDIS_REST_TOKEN"):
            await wrong.get("anything")
        assert await ping(wrong) is False
    finally:
        await wrong.aclose()
    settings = Settings(
        _env_file=None,
        environment="testing",
        postgres_url=database_dsn,
        upstash_redis_rest_url=rest[0],
        upstash_redis_rest_token="not-the-token",
    )
    runtime = ServiceRuntime(settings, service="health-probe", needs_database=False)
    try:
        assert await runtime.ready() is False
        assert runtime.components() == {"redis": False}
    finally:
        await runtime.close()
    check = await check_redis(settings)
    assert not check.ok
    assert "refused UPSTASH_REDIS_REST_TOKEN (HTTP 401)" in check.detail


async def test_an_unreachable_rest_url_is_a_connection_error() -> None:
    gone = UpstashRedis(f"http://127.0.0.1:{free_port()}", TOKEN)
    try:
        with pytest.raises(ConnectionError, match="unreachable"):
            await gone.get("anything")
        assert await ping(gone) is False
    finally:
        await gone.aclose()


def test_settings_pick_the_client_and_refuse_half_a_configuration() -> None:
    rest_only = Settings(
        _env_file=None, upstash_redis_rest_url="https://x.upstash.io", upstash_redis_rest_token="t"
    )
    assert isinstance(redis_from_settings(rest_only), UpstashRedis)
    both = Settings(
        _env_file=None,
        redis_url="redis://127.0.0.1:6379/0",
        upstash_redis_rest_url="https://x.upstash.io",
        upstash_redis_rest_token="t",
    )
    chosen = redis_from_settings(both)
    assert chosen is not None
    assert not isinstance(chosen, UpstashRedis)  # REDIS_URL wins
    assert redis_from_settings(Settings(_env_file=None)) is None
    with pytest.raises(ValidationError, match="go together"):
        Settings(_env_file=None, upstash_redis_rest_url="https://x.upstash.io")
    with pytest.raises(ValidationError, match="go together"):
        Settings(_env_file=None, upstash_redis_rest_token="t")
    with pytest.raises(ValidationError, match="https:// REST URL"):
        Settings(
            _env_file=None,
            upstash_redis_rest_url="rediss://default:t@x.upstash.io:6379",
            upstash_redis_rest_token="t",
        )


async def test_revocation_answers_are_kept_for_the_bound_then_re_read(
    client: UpstashRedis, rest: tuple[str, UpstashRestServer]
) -> None:
    """No CLIENT TRACKING over REST: an answer is believed for trust_seconds, no longer.
    Two Revocations objects stand for two processes (auth revoking, trips checking)."""
    server = rest[1]
    ana = Principal(user_id=str(uuid.uuid4()), session_id=str(uuid.uuid4()))
    auth = Revocations(client, remember_seconds=60)
    patient = Revocations(client, remember_seconds=60, trust_seconds=3600)
    eager = Revocations(client, remember_seconds=60, trust_seconds=0)
    reads = server.commands["MGET"]
    for _ in range(3):
        await patient.check(ana)
        await eager.check(ana)
    assert server.commands["MGET"] == reads + 1 + 3  # patient read once, eager every time
    await auth.revoke_sessions([ana.session_id])
    with pytest.raises(Unauthenticated):
        await auth.check(ana)  # the revoking process knows at once
    with pytest.raises(Unauthenticated):
        await eager.check(ana)  # another process, once its answer is trust_seconds old
    await patient.check(ana)  # still within its (here an hour's) bound: the staleness
    for checker in (auth, patient, eager):
        await checker.close()


def test_tripsage_up_hands_the_rest_pair_to_its_children_and_starts_no_valkey(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    settings = load_settings(
        _env_file=None,
        tripsage_data_dir=tmp_path / "data",
        postgres_url="postgresql://db",
        upstash_redis_rest_url="https://x.upstash.io",
        upstash_redis_rest_token="t0k",
    )
    suite = Suite(settings)
    dsn, redis_address = suite.start_backing_services()
    assert (dsn, redis_address, suite.embedded_valkey) == ("postgresql://db", None, None)
    env = suite.child_env(dsn, redis_address)
    assert "REDIS_URL" not in env
    assert env["UPSTASH_REDIS_REST_URL"] == "https://x.upstash.io"
    assert env["UPSTASH_REDIS_REST_TOKEN"] == "t0k"


# -- the suite over REST only ------------------------------------------------------------


async def test_sign_in_limits_count_over_rest(
    suite: RunningSuite, http: httpx.AsyncClient, rest: tuple[str, UpstashRestServer]
) -> None:
    account = await register(suite.address("auth"), "upstash-login")
    transactions = rest[1].requests["/multi-exec"]
    guesses = [
        await http.post(
            "/api/v1/auth/login", json={"email": account.email, "password": f"wrong {index}"}
        )
        for index in range(MAX_PER_ACCOUNT + 2)
    ]
    statuses = [reply.status_code for reply in guesses]
    assert statuses == [401] * MAX_PER_ACCOUNT + [429, 429]
    assert int(guesses[-1].headers["retry-after"]) > 0
    right = await http.post(
        "/api/v1/auth/login", json={"email": account.email, "password": PASSWORD}
    )
    assert right.status_code == 429
    assert rest[1].requests["/multi-exec"] > transactions  # counted in Redis, over REST
    # An account nobody guessed at still signs in.
    other = unique_email("upstash-fine")
    registered = await http.post(
        "/api/v1/auth/register", json={"email": other, "password": PASSWORD, "fullName": "Fine"}
    )
    assert registered.status_code in (200, 201), registered.text
    fine = await http.post("/api/v1/auth/login", json={"email": other, "password": PASSWORD})
    assert fine.status_code == 200, fine.text


async def test_gateway_rate_limits_count_over_rest(
    suite: RunningSuite, rest: tuple[str, UpstashRestServer]
) -> None:
    limited = redis_from_settings(suite.settings)  # as gateway/__main__.py builds it
    assert isinstance(limited, UpstashRedis)
    app = create_app(
        upstream_addresses(suite.settings),
        call_timeout=10,
        callers=gateway_callers(suite.settings),
        channel_credentials=channel_credentials(suite.settings),
        service_credentials=service_credentials(suite.settings),
        rate_limiter=RateLimiter(
            limited, per_minute=GATEWAY_LIMIT, prefix=f"test-upstash-{uuid.uuid4().hex}"
        ),
    )
    scripts = rest[1].commands["EVALSHA"]
    try:
        async with (
            serve_asgi(app, lifespan="on") as url,
            httpx.AsyncClient(base_url=url, timeout=30) as http,
        ):
            statuses = [(await http.get("/api/v1/trips")).status_code for _ in range(6)]
            health = await http.get(
                "/api/health/detailed", headers={"authorization": f"Bearer {_operator(suite)}"}
            )
    finally:
        await limited.aclose()
    assert 429 not in statuses[:GATEWAY_LIMIT]
    assert statuses[GATEWAY_LIMIT:] == [429, 429]
    assert rest[1].commands["EVALSHA"] > scripts  # the shared count is Redis's, over REST
    assert health.json()["rateLimiter"]["backend"] == "redis", health.text


def _operator(suite: RunningSuite) -> str:
    token = suite.settings.operator_token
    assert token is not None
    return token.get_secret_value()


async def test_a_repeated_search_is_a_cache_hit_over_rest(
    suite: RunningSuite, http: httpx.AsyncClient, rest: tuple[str, UpstashRestServer]
) -> None:
    account = await register(suite.address("auth"), "upstash-travel")
    search = {
        "slices": [
            {
                "origin": "OPO",
                "destination": "MAD",
                "departureDate": (date.today() + timedelta(days=40)).isoformat(),
            }
        ],
        "passengers": {"adults": 1},
        "maxResults": 3,
    }
    writes = rest[1].requests["path"]
    first = await http.post("/api/v1/flights:search", headers=account.headers, json=search)
    again = await http.post("/api/v1/flights:search", headers=account.headers, json=search)
    assert first.status_code == again.status_code == 200, again.text
    assert not first.json()["source"].get("cached", False)
    assert again.json()["source"]["cached"] is True
    assert again.json()["offers"] == first.json()["offers"]
    assert rest[1].requests["path"] > writes  # the binary entry was written over REST


async def test_sign_out_is_refused_everywhere_within_the_bound(
    suite: RunningSuite, http: httpx.AsyncClient
) -> None:
    account = await register(suite.address("auth"), "upstash-revoke")
    async with grpc.aio.insecure_channel(suite.address("trips")) as channel:
        trips = trips_grpc.TripServiceStub(channel)
        await trips.ListTrips(trips_pb.ListTripsRequest(), metadata=account.metadata)
        signed_out = await http.post(
            "/api/v1/auth/logout",
            json={"refreshToken": account.refresh_token},
            headers=account.headers,
        )
        assert signed_out.status_code == 200, signed_out.text
        # Trips cached "not revoked" a moment ago; over REST it re-reads within the bound.
        await asyncio.sleep(TRUST_SECONDS + 0.2)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await trips.ListTrips(trips_pb.ListTripsRequest(), metadata=account.metadata)
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "session has ended" in (caught.value.details() or "")


async def test_an_idempotent_create_replays_with_redis_over_rest(
    suite: RunningSuite, http: httpx.AsyncClient
) -> None:
    account = await register(suite.address("auth"), "upstash-idem")
    keyed = {**account.headers, "idempotency-key": f"k-{uuid.uuid4()}"}
    body = {"title": "Porto", "startDate": "2027-06-01", "endDate": "2027-06-03"}
    first = await http.post("/api/v1/trips", headers=keyed, json=body)
    again = await http.post("/api/v1/trips", headers=keyed, json=body)
    assert (first.status_code, again.status_code) == (201, 200), again.text
    assert again.json()["trip"]["id"] == first.json()["trip"]["id"]
