"""What the gateway passes on from a request's headers, over real HTTP to a real grpc.aio server.

X-Forwarded-For counts only from TRUSTED_PROXIES (none by default), and the
upstream is told the one client address the gateway settled on. Headers too
long to travel as gRPC metadata are refused with 431 and a plain message,
never gRPC's own RESOURCE_EXHAUSTED text.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import grpc
import httpx
import pytest
from google.rpc import status_pb2
from grpc_status import rpc_status

from gateway.app import create_app
from gateway.rate_limit import RateLimiter
from tests.integration.gateway_support.fake_upstreams import RecordingAuthServicer
from tests.integration.gateway_support.servers import grpc_server, http_server
from tripsage.auth.v1 import auth_service_pb2 as auth_pb
from tripsage.auth.v1 import auth_service_pb2_grpc as auth_grpc
from tripsage_core.cache import create_redis
from tripsage_core.client_address import HEADER as CLIENT_ADDRESS_HEADER
from tripsage_core.client_address import unseal
from tripsage_core.service_registry import SERVICES

pytestmark = pytest.mark.database

LIMIT = 5
if TYPE_CHECKING:
    Context = grpc.aio.ServicerContext[object, object]
LOGIN = {"email": "OK", "password": "x"}


@dataclass
class Running:
    url: str
    auth: RecordingAuthServicer


@asynccontextmanager
async def _gateway(
    redis_url: str, trusted_proxies: Sequence[str] = (), auth: RecordingAuthServicer | None = None
) -> AsyncIterator[Running]:
    auth = auth or RecordingAuthServicer()
    limiter = RateLimiter(
        create_redis(redis_url), per_minute=LIMIT, prefix=f"test-forwarding-{uuid.uuid4().hex}"
    )
    async with grpc_server(lambda s: auth_grpc.add_AuthServiceServicer_to_server(auth, s)) as addr:
        app = create_app({service.grpc_service: addr for service in SERVICES}, rate_limiter=limiter)
        async with http_server(app, trusted_proxies=trusted_proxies) as url:
            yield Running(url, auth)


async def test_a_loopback_client_claiming_a_new_address_per_request_stays_in_one_bucket(
    redis_url: str,
) -> None:
    async with _gateway(redis_url) as gateway, httpx.AsyncClient(base_url=gateway.url) as http:
        statuses = []
        for index in range(LIMIT + 2):
            claimed = {"x-forwarded-for": f"203.0.113.{index + 1}"}
            reply = await http.post("/api/v1/auth/login", json=LOGIN, headers=claimed)
            statuses.append(reply.status_code)
    assert statuses == [200] * LIMIT + [429, 429]
    # The service is told the address the request really came from, nothing claimed.
    assert {unseal(seen[CLIENT_ADDRESS_HEADER]) for seen in gateway.auth.received} == {"127.0.0.1"}


async def test_a_trusted_proxy_names_the_client(redis_url: str) -> None:
    async with (
        _gateway(redis_url, trusted_proxies=["127.0.0.0/8"]) as gateway,
        httpx.AsyncClient(base_url=gateway.url) as http,
    ):
        # Each proxied client has its own bucket ...
        for index in range(LIMIT + 2):
            claimed = {"x-forwarded-for": f"203.0.113.{index + 1}"}
            reply = await http.post("/api/v1/auth/login", json=LOGIN, headers=claimed)
            assert reply.status_code == 200
        # ... and a client's own entries before the proxy's are not believed: the
        # first address from the right that is not a trusted proxy is the client.
        chain = {"x-forwarded-for": "192.0.2.1, 198.51.100.9, 127.0.0.5"}
        assert (await http.post("/api/v1/auth/login", json=LOGIN, headers=chain)).is_success
    seen = [unseal(entry[CLIENT_ADDRESS_HEADER]) for entry in gateway.auth.received]
    assert seen[:2] == ["203.0.113.1", "203.0.113.2"]
    assert seen[-1] == "198.51.100.9"


def _plain(reply: httpx.Response) -> str:
    message = str(reply.json()["error"]["message"])
    for internal in (":authority", ":path", "grpc", "hard limit", "Stream removed"):
        assert internal not in message
    return message


@pytest.mark.parametrize(
    ("header", "length"),
    [("idempotency-key", 16_000), ("authorization", 12_000), ("x-api-key", 9_000)],
)
async def test_a_header_too_long_for_grpc_metadata_is_431_naming_it(
    redis_url: str, header: str, length: int
) -> None:
    async with _gateway(redis_url) as gateway, httpx.AsyncClient(base_url=gateway.url) as http:
        value = ("Bearer " if header == "authorization" else "") + "k" * length
        reply = await http.post("/api/v1/auth/login", json=LOGIN, headers={header: value})
    assert reply.status_code == 431
    assert header in _plain(reply)
    violations = [d for d in reply.json()["error"]["details"] if "fieldViolations" in d]
    assert violations[0]["fieldViolations"][0]["field"] == header
    assert gateway.auth.received == []  # refused before any call


async def test_a_10_kb_x_forwarded_for_is_not_passed_on(redis_url: str) -> None:
    async with _gateway(redis_url) as gateway, httpx.AsyncClient(base_url=gateway.url) as http:
        huge = {"x-forwarded-for": ", ".join(["203.0.113.250"] * 700)}  # ~10 kB
        reply = await http.post("/api/v1/auth/login", json=LOGIN, headers=huge)
    assert reply.status_code == 200, reply.text
    assert unseal(gateway.auth.received[-1][CLIENT_ADDRESS_HEADER]) == "127.0.0.1"
    assert "x-forwarded-for" not in gateway.auth.received[-1]


async def test_oversized_trace_context_is_dropped(redis_url: str) -> None:
    async with _gateway(redis_url) as gateway, httpx.AsyncClient(base_url=gateway.url) as http:
        reply = await http.post(
            "/api/v1/auth/login", json=LOGIN, headers={"tracestate": "v=" + "x" * 5000}
        )
    assert reply.status_code == 200
    assert "tracestate" not in gateway.auth.received[-1]


class _EchoingAuth(RecordingAuthServicer):
    """Fails Login with an error that repeats the whole input in its trailers, as the
    services did before they truncated echoed values."""

    async def Login(
        self,
        request: auth_pb.LoginRequest,
        context: Context,
    ) -> auth_pb.LoginResponse:
        status = status_pb2.Status(
            code=grpc.StatusCode.INVALID_ARGUMENT.value[0],
            message=f"no such place: {request.email}",
        )
        await context.abort_with_status(rpc_status.to_status(status))
        raise AssertionError("unreachable")


async def test_an_error_too_large_for_grpc_trailers_is_a_plain_400(redis_url: str) -> None:
    async with (
        _gateway(redis_url, auth=_EchoingAuth()) as gateway,
        httpx.AsyncClient(base_url=gateway.url) as http,
    ):
        reply = await http.post("/api/v1/auth/login", json={"email": "x" * 20_000, "password": "x"})
    assert reply.status_code == 400, reply.text
    assert _plain(reply) == "a value in the request is too large to pass on"
