"""The gateway over real HTTP (uvicorn) in front of real grpc.aio servers.

Every gRPC status code an upstream can fail with is checked end to end: the
HTTP status, the JSON error body with its google.rpc details, and the
WWW-Authenticate / Retry-After headers. Also: health against real
grpc.health.v1 servicers, metadata and request-id propagation, bad input,
and server-streaming RPCs as Server-Sent Events.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import grpc
import httpx
import pytest
import pytest_asyncio
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from gateway.app import create_app
from gateway.callers import GatewayCallers
from tests.integration.gateway_support.fake_upstreams import (
    RETRY_AFTER_SECONDS,
    SLEEP_MARKER,
    TEST_DOMAIN,
    RecordingAuthServicer,
    StreamingAssistantServicer,
)
from tests.integration.gateway_support.servers import (
    grpc_server,
    http_server,
    unreachable_address,
)
from tests.support.suite import OPERATOR_HEADERS, OPERATOR_TOKEN
from tripsage.assistant.v1 import assistant_service_pb2_grpc as assistant_grpc
from tripsage.auth.v1 import auth_service_pb2_grpc as auth_grpc

AUTH = "tripsage.auth.v1.AuthService"
TRIPS = "tripsage.trips.v1.TripService"
TRAVEL = "tripsage.travel.v1.TravelService"
ASSISTANT = "tripsage.assistant.v1.AssistantService"

EXPECTED_HTTP = {
    grpc.StatusCode.OK: 200,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNKNOWN: 500,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DATA_LOSS: 500,
    grpc.StatusCode.UNAUTHENTICATED: 401,
}
OPERATORS = GatewayCallers(operator_token=OPERATOR_TOKEN)
FAILURE_CODES = [code for code in grpc.StatusCode if code is not grpc.StatusCode.OK]


@dataclass
class Upstreams:
    auth: RecordingAuthServicer
    serving_address: str  # auth + assistant, health SERVING
    not_serving_address: str  # trips, health NOT_SERVING
    unreachable_address: str  # travel, nothing listening


@dataclass
class Gateway:
    url: str
    upstreams: Upstreams


async def _health_servicer(status: int, *services: str) -> health.aio.HealthServicer:
    servicer = health.aio.HealthServicer()
    for name in ("", *services):
        await servicer.set(name, status)
    return servicer


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def upstreams() -> AsyncIterator[Upstreams]:
    auth = RecordingAuthServicer()
    serving_health = await _health_servicer(health_pb2.HealthCheckResponse.SERVING, AUTH, ASSISTANT)
    not_serving_health = await _health_servicer(health_pb2.HealthCheckResponse.NOT_SERVING, TRIPS)
    async with (
        grpc_server(
            lambda server: auth_grpc.add_AuthServiceServicer_to_server(auth, server),
            lambda server: assistant_grpc.add_AssistantServiceServicer_to_server(
                StreamingAssistantServicer(), server
            ),
            lambda server: health_pb2_grpc.add_HealthServicer_to_server(serving_health, server),
        ) as serving,
        grpc_server(
            lambda server: health_pb2_grpc.add_HealthServicer_to_server(not_serving_health, server),
        ) as not_serving,
    ):
        yield Upstreams(auth, serving, not_serving, unreachable_address())


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def gateway(upstreams: Upstreams) -> AsyncIterator[Gateway]:
    app = create_app(
        {
            AUTH: upstreams.serving_address,
            ASSISTANT: upstreams.serving_address,
            TRIPS: upstreams.not_serving_address,
            TRAVEL: upstreams.unreachable_address,
        },
        call_timeout=1.0,
        callers=OPERATORS,
    )
    async with http_server(app) as url:
        yield Gateway(url, upstreams)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def healthy_gateway_url(upstreams: Upstreams) -> AsyncIterator[str]:
    app = create_app(
        {AUTH: upstreams.serving_address, ASSISTANT: upstreams.serving_address},
        callers=OPERATORS,
    )
    async with http_server(app) as url:
        yield url


@pytest_asyncio.fixture(loop_scope="session")
async def http(gateway: Gateway) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=gateway.url, timeout=10) as client:
        yield client


def _detail(details: list[dict[str, Any]], type_name: str) -> dict[str, Any]:
    matches = [d for d in details if d["@type"] == f"type.googleapis.com/google.rpc.{type_name}"]
    assert len(matches) == 1, details
    return matches[0]


@pytest.mark.parametrize("code", FAILURE_CODES, ids=lambda code: code.name)
async def test_every_grpc_status_maps_to_http(
    http: httpx.AsyncClient, code: grpc.StatusCode
) -> None:
    message = f"failed with {code.name}"
    response = await http.post("/api/v1/auth/login", json={"email": code.name, "password": message})

    assert response.status_code == EXPECTED_HTTP[code]
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == EXPECTED_HTTP[code]
    assert error["status"] == code.name
    assert error["message"] == message
    info = _detail(error["details"], "ErrorInfo")
    assert info == {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": code.name,
        "domain": TEST_DOMAIN,
        "metadata": {"code": code.name},
    }
    if code is grpc.StatusCode.INVALID_ARGUMENT:
        assert _detail(error["details"], "BadRequest")["fieldViolations"] == [
            {"field": "email", "description": "must be an email address"}
        ]
    if code is grpc.StatusCode.RESOURCE_EXHAUSTED:
        assert response.headers["retry-after"] == str(RETRY_AFTER_SECONDS)
        assert _detail(error["details"], "RetryInfo")["retryDelay"] == "6.000000005s"
    else:
        assert "retry-after" not in response.headers
    if code is grpc.StatusCode.UNAUTHENTICATED:
        assert response.headers["www-authenticate"] == 'Bearer realm="tripsage"'
    else:
        assert "www-authenticate" not in response.headers


async def test_unauthenticated_with_a_token_says_invalid_token(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/api/v1/auth/login",
        json={"email": "UNAUTHENTICATED", "password": "expired"},
        headers={"authorization": "Bearer stale"},
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == (
        'Bearer realm="tripsage", error="invalid_token"'
    )


async def test_ok_renders_camel_case_json_with_defaults(http: httpx.AsyncClient) -> None:
    response = await http.post("/api/v1/auth/login", json={"email": "ana@example.com"})
    assert response.status_code == 200
    body = response.json()
    assert body["accessToken"] == "token"
    assert body["user"]["email"] == "ana@example.com"
    assert body["user"]["emailVerified"] is False  # defaults are included
    assert body["expiresIn"] in (0, "0")


async def test_metadata_and_request_id_reach_the_upstream(
    http: httpx.AsyncClient, gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    headers = {
        "authorization": "Bearer abc",
        "x-api-key": "key-1",
        "idempotency-key": "idem-1",
        "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "x-request-id": "req-42",
        "cookie": "not=forwarded",
    }
    with caplog.at_level(logging.INFO, logger="tripsage.gateway"):
        response = await http.get("/api/v1/users/me", headers=headers)
    assert response.status_code == 200
    assert response.json()["user"]["fullName"] == "Ana"
    assert response.headers["x-request-id"] == "req-42"
    received = gateway.upstreams.auth.received[-1]
    for name in ("authorization", "x-api-key", "idempotency-key", "traceparent"):
        assert received[name] == headers[name]
    assert received["x-request-id"] == "req-42"
    assert "cookie" not in received
    assert any("GET /api/v1/users/me 200" in record.getMessage() for record in caplog.records), (
        caplog.text
    )


async def test_generated_request_id_is_sent_and_returned(
    http: httpx.AsyncClient, gateway: Gateway
) -> None:
    response = await http.get("/api/v1/users/me")
    request_id = response.headers["x-request-id"]
    assert len(request_id) == 32
    assert gateway.upstreams.auth.received[-1]["x-request-id"] == request_id


async def test_bad_json_is_400_with_field(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/api/v1/auth/login", content=b'{"email": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["status"] == "INVALID_ARGUMENT"

    response = await http.post("/api/v1/auth/login", json={"email": 42})
    assert response.status_code == 400
    violations = _detail(response.json()["error"]["details"], "BadRequest")["fieldViolations"]
    assert violations[0]["field"] == "email"


async def test_unknown_field_is_400(http: httpx.AsyncClient) -> None:
    response = await http.post("/api/v1/auth/login", json={"email": "a@b.c", "pasword": "x"})
    assert response.status_code == 400
    violations = _detail(response.json()["error"]["details"], "BadRequest")["fieldViolations"]
    assert violations == [{"field": "pasword", "description": 'unknown field "pasword"'}]


async def test_unreachable_upstream_is_503(http: httpx.AsyncClient) -> None:
    response = await http.post("/api/v1/flights:search", json={})
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["status"] == "UNAVAILABLE"
    assert "127.0.0.1" not in error["message"]


async def test_call_timeout_is_504(http: httpx.AsyncClient) -> None:
    response = await http.post("/api/v1/auth/login", json={"email": SLEEP_MARKER})
    assert response.status_code == 504
    assert response.json()["error"]["status"] == "DEADLINE_EXCEEDED"


async def test_health_reports_each_upstream(http: httpx.AsyncClient) -> None:
    response = await http.get("/api/health")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unhealthy",
        "services": {
            "auth": "SERVING",
            "assistant": "SERVING",
            "trips": "NOT_SERVING",
            "travel": "UNREACHABLE",
        },
    }


async def test_health_detailed(http: httpx.AsyncClient, gateway: Gateway) -> None:
    for path in ("/api/health/detailed", "/api/health/components"):
        response = await http.get(path, headers=OPERATOR_HEADERS)
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "unhealthy"
        auth = body["services"]["auth"]
        assert auth["status"] == "SERVING"
        assert auth["serviceStatus"] == "SERVING"
        assert auth["service"] == AUTH
        assert auth["address"] == gateway.upstreams.serving_address
        assert auth["latencyMs"] >= 0
        assert body["services"]["trips"]["status"] == "NOT_SERVING"
        assert body["services"]["travel"]["status"] == "UNREACHABLE"
        assert body["services"]["travel"]["address"] == gateway.upstreams.unreachable_address


async def test_health_all_serving_is_200(healthy_gateway_url: str) -> None:
    async with httpx.AsyncClient(base_url=healthy_gateway_url, timeout=10) as client:
        summary = await client.get("/api/health")
        detailed = await client.get("/api/health/detailed", headers=OPERATOR_HEADERS)
    assert summary.status_code == 200
    assert summary.json() == {
        "status": "healthy",
        "services": {"auth": "SERVING", "assistant": "SERVING"},
    }
    assert detailed.status_code == 200
    assert detailed.json()["status"] == "healthy"


def _sse_events(text: str) -> list[tuple[str, Any]]:
    events: list[tuple[str, Any]] = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        event, data = "message", ""
        for line in block.split("\n"):
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: "):
                data += line.removeprefix("data: ")
        events.append((event, json.loads(data)))
    return events


async def test_server_streaming_is_sse(http: httpx.AsyncClient) -> None:
    async with http.stream(
        "POST", "/api/v1/conversations/c1/messages:stream", json={"content": "count:3"}
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        text = (await response.aread()).decode()
    events = _sse_events(text)
    assert [event for event, _ in events] == ["message"] * 3
    assert [data["sequence"] for _, data in events] == [1, 2, 3]
    assert events[0][1]["textDelta"] == {"messageId": "m1", "text": "part 1"}
    assert text.startswith("data: {")


async def test_stream_failing_upfront_is_a_plain_http_error(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/api/v1/conversations/c9/messages:stream", json={"content": "fail:NOT_FOUND"}
    )
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "refused c9"


async def test_stream_failing_midway_ends_with_an_error_event(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/api/v1/conversations/c1/messages:stream",
        json={"content": "fail-after:2:RESOURCE_EXHAUSTED"},
    )
    assert response.status_code == 200
    events = _sse_events(response.text)
    assert [event for event, _ in events] == ["message", "message", "error"]
    error = events[-1][1]["error"]
    assert error["code"] == 429
    assert error["status"] == "RESOURCE_EXHAUSTED"
    assert error["message"] == "the turn failed"
    assert _detail(error["details"], "ErrorInfo")["reason"] == "RESOURCE_EXHAUSTED"
    assert "event: error\ndata: {" in response.text


async def test_metrics_count_requests_and_upstream_calls(http: httpx.AsyncClient) -> None:
    await http.get("/api/v1/users/me")
    text = (await http.get("/metrics", headers=OPERATOR_HEADERS)).text
    assert 'route="/api/v1/users/me",status="200"' in text
    assert (
        'tripsage_gateway_upstream_call_duration_seconds_count{grpc_code="OK",'
        'grpc_method="/tripsage.auth.v1.AuthService/GetCurrentUser",service="auth"}'
    ) in text
