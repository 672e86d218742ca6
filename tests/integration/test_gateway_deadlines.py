"""Every upstream call has a deadline: 504 when a service does not answer in time,
503 within a second when it is down, never a hang.

Over real HTTP to real grpc.aio servers that answer late or never
(tests/integration/gateway_support/slow_upstreams.py), to a port nothing listens
on, and to a server that served and was then stopped. A client's grpc-timeout or
Request-Timeout shortens the deadline, never lengthens it; bad values are 400.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import grpc
import httpx
import pytest
import pytest_asyncio

from gateway.app import create_app
from tests.integration.gateway_support.servers import grpc_server, http_server, unreachable_address
from tests.integration.gateway_support.slow_upstreams import register_slow
from tripsage_core.service_registry import SERVICES

TRIPS = "tripsage.trips.v1.TripService"
TRAVEL = "tripsage.travel.v1.TravelService"
ASSISTANT = "tripsage.assistant.v1.AssistantService"
CALL_TIMEOUT = 0.5
LONG_CALL_TIMEOUT = 3.0
STREAM_TIMEOUT = 0.8


def _all(address: str) -> dict[str, str]:
    return {service.grpc_service: address for service in SERVICES}


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def never_answers() -> AsyncIterator[str]:
    """A gateway whose trips/assistant never answer; travel's flight search takes 1.5 s."""
    async with grpc_server(lambda server: register_slow(server, None, travel_seconds=1.5)) as addr:
        app = create_app(
            _all(addr),
            call_timeout=CALL_TIMEOUT,
            long_call_timeout=LONG_CALL_TIMEOUT,
            stream_timeout=STREAM_TIMEOUT,
        )
        async with http_server(app) as url:
            yield url


async def _timed(url: str, method: str, path: str, **options: Any) -> tuple[httpx.Response, float]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        started = time.perf_counter()
        response = await http.request(method, path, **options)
        return response, time.perf_counter() - started


def _assert_deadline_exceeded(response: httpx.Response) -> None:
    assert response.status_code == 504, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == 504
    assert error["status"] == "DEADLINE_EXCEEDED"


async def test_a_service_that_never_answers_is_504_at_the_deadline(never_answers: str) -> None:
    response, took = await _timed(never_answers, "GET", f"/api/v1/trips/{uuid.uuid4()}")
    _assert_deadline_exceeded(response)
    assert CALL_TIMEOUT * 0.9 <= took < CALL_TIMEOUT + 1.0


async def test_searches_have_the_longer_deadline(never_answers: str) -> None:
    """The 1.5 s flight search is past the default deadline, within the long one."""
    response, took = await _timed(never_answers, "POST", "/api/v1/flights:search", json={})
    assert response.status_code == 200, response.text
    assert took >= 1.4


async def test_a_stream_that_never_starts_is_504_at_the_stream_deadline(
    never_answers: str,
) -> None:
    response, took = await _timed(
        never_answers,
        "POST",
        f"/api/v1/conversations/{uuid.uuid4()}/messages:stream",
        json={"content": "hello"},
    )
    _assert_deadline_exceeded(response)
    assert STREAM_TIMEOUT * 0.9 <= took < STREAM_TIMEOUT + 1.0


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"grpc-timeout": "200m"}, 0.2),
        ({"grpc-timeout": "150000u"}, 0.15),
        ({"Request-Timeout": "0.2"}, 0.2),
        ({"grpc-timeout": "1S", "Request-Timeout": "0.1"}, 0.1),  # the shortest wins
    ],
)
async def test_the_client_can_shorten_the_deadline(
    never_answers: str, headers: dict[str, str], seconds: float
) -> None:
    response, took = await _timed(
        never_answers, "POST", "/api/v1/flights:search", json={}, headers=headers
    )
    _assert_deadline_exceeded(response)
    assert seconds * 0.9 <= took < 1.0


@pytest.mark.parametrize(
    "headers", [{"grpc-timeout": "1H"}, {"Request-Timeout": "3600"}, {"grpc-timeout": "99999999M"}]
)
async def test_the_client_cannot_lengthen_it(never_answers: str, headers: dict[str, str]) -> None:
    response, took = await _timed(
        never_answers, "GET", f"/api/v1/trips/{uuid.uuid4()}", headers=headers
    )
    _assert_deadline_exceeded(response)
    assert took < CALL_TIMEOUT + 1.0


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("grpc-timeout", "5"),
        ("grpc-timeout", "5s"),  # units are case-sensitive: s is not one
        ("grpc-timeout", "S"),
        ("grpc-timeout", "123456789S"),  # more than 8 digits
        ("grpc-timeout", "-1S"),
        ("grpc-timeout", "0m"),
        ("grpc-timeout", "1.5S"),
        ("request-timeout", "soon"),
        ("request-timeout", "0"),
        ("request-timeout", "-2"),
        ("request-timeout", "1e3"),
        ("request-timeout", "inf"),
        ("request-timeout", "nan"),
        ("request-timeout", "9" * 40),
        ("request-timeout", ""),
    ],
)
async def test_a_bad_timeout_is_400_naming_the_header(
    never_answers: str, header: str, value: str
) -> None:
    response, took = await _timed(
        never_answers, "GET", f"/api/v1/trips/{uuid.uuid4()}", headers={header: value}
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    assert header in error["message"]
    violations = [d for d in error["details"] if d["@type"].endswith("BadRequest")]
    assert violations[0]["fieldViolations"][0]["field"] == header
    assert took < CALL_TIMEOUT  # refused before any call


async def test_nothing_listening_is_503_within_a_second() -> None:
    app = create_app(_all(unreachable_address()), call_timeout=30, stream_timeout=30)
    async with http_server(app) as url:
        for path in (f"/api/v1/trips/{uuid.uuid4()}", "/api/v1/trips", "/api/v1/trips"):
            response, took = await _timed(url, "GET", path)
            assert response.status_code == 503, response.text
            assert response.json()["error"]["status"] == "UNAVAILABLE"
            assert "127.0.0.1" not in response.text
            assert took < 1.0
        stream, took = await _timed(
            url,
            "POST",
            f"/api/v1/conversations/{uuid.uuid4()}/messages:stream",
            json={"content": "hello"},
        )
        assert stream.status_code == 503, stream.text
        assert took < 1.0


async def test_a_stopped_service_is_503_within_a_second() -> None:
    """The channel was connected and serving; the server goes away; calls fail fast."""
    server = grpc.aio.server()
    register_slow(server, None)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    app = create_app(_all(f"127.0.0.1:{port}"), call_timeout=30)
    async with http_server(app) as url:
        first, _ = await _timed(url, "GET", "/api/v1/trips")
        assert first.status_code == 200, first.text
        await server.stop(grace=None)
        for _ in range(3):
            response, took = await _timed(url, "GET", "/api/v1/trips")
            assert response.status_code == 503, response.text
            assert response.json()["error"]["status"] == "UNAVAILABLE"
            assert took < 1.0


async def test_a_name_that_does_not_resolve_is_503_naming_no_host() -> None:
    """A headless Service with no ready pod has no address at all."""
    app = create_app(_all("no-such-service.invalid:50052"), call_timeout=30)
    async with http_server(app) as url:
        for _ in range(2):
            response, took = await _timed(url, "GET", "/api/v1/trips")
            assert response.status_code == 503, response.text
            error = response.json()["error"]
            assert error["status"] == "UNAVAILABLE"
            assert error["message"] == "TripService is unavailable"
            assert "no-such-service" not in response.text
            assert took < 1.0
