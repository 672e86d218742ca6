"""The app's own behaviour, in process (no upstream is called here)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from google.protobuf.descriptor import ServiceDescriptor

from gateway.app import create_app
from gateway.callers import GatewayCallers

OPERATOR_TOKEN = "unit-operator-token-0123456789abcdefghijklmnopqrstuvwxyz"
OPERATOR_HEADERS = {"authorization": f"Bearer {OPERATOR_TOKEN}"}


@pytest.fixture
async def client(echo_service: ServiceDescriptor) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        {},
        services=[echo_service],
        cors_origins=["https://app.example"],
        callers=GatewayCallers(operator_token=OPERATOR_TOKEN),
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        yield http


async def test_unknown_route_is_a_json_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/nothing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == 404
    assert error["status"] == "NOT_FOUND"
    assert error["details"] == []


async def test_wrong_method_is_a_json_405(client: httpx.AsyncClient) -> None:
    response = await client.put("/api/v1/things/t1", json={})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, PATCH, DELETE"
    assert response.json()["error"]["code"] == 405
    response = await client.post("/api/health")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"


async def test_bad_json_is_400_before_any_upstream(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/echo", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    assert "JSON" in error["message"]


async def test_unknown_field_is_400_naming_it(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/echo", json={"mesage": "typo"})
    assert response.status_code == 400
    violations = response.json()["error"]["details"][1]["fieldViolations"]
    assert violations == [{"field": "mesage", "description": 'unknown field "mesage"'}]


async def test_bad_query_is_400_naming_it(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/things", params={"pageSize": "lots"})
    assert response.status_code == 400
    violations = response.json()["error"]["details"][1]["fieldViolations"]
    assert violations[0]["field"] == "pageSize"


async def test_body_too_large_is_413(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/echo", content=b" " * (4 * 1024 * 1024 + 1))
    assert response.status_code == 413


async def test_no_configured_upstream_is_503(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/things/t1")
    assert response.status_code == 503
    assert response.json()["error"]["status"] == "UNAVAILABLE"


async def test_request_id_is_echoed_or_generated(client: httpx.AsyncClient) -> None:
    echoed = await client.get("/api/v1/nothing", headers={"x-request-id": "req-123"})
    assert echoed.headers["x-request-id"] == "req-123"
    generated = await client.get("/api/v1/nothing", headers={"x-request-id": "bad id;<script>"})
    assert generated.headers["x-request-id"] != "bad id;<script>"
    assert len(generated.headers["x-request-id"]) == 32
    fresh = await client.get("/api/v1/nothing")
    assert len(fresh.headers["x-request-id"]) == 32


async def test_openapi_document_is_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/openapi.json")
    assert response.status_code == 200
    assert "/api/v1/things/{thing_id}" in response.json()["paths"]


async def test_metrics_by_route_template(client: httpx.AsyncClient) -> None:
    await client.get("/api/v1/things", params={"pageSize": "x"})
    await client.get("/api/v1/nothing")
    text = (await client.get("/metrics", headers=OPERATOR_HEADERS)).text
    assert (
        'tripsage_gateway_http_requests_total{consumer="anonymous",method="GET",'
        'route="/api/v1/things",status="400"}' in text
    )
    assert 'route="unmatched",status="404"' in text
    assert "tripsage_gateway_http_request_duration_seconds_bucket" in text


async def test_apps_do_not_share_metrics(echo_service: ServiceDescriptor) -> None:
    first, second = create_app({}, services=[echo_service]), create_app({}, services=[])
    assert first.state.metrics.registry is not second.state.metrics.registry


async def test_cors_preflight(client: httpx.AsyncClient) -> None:
    response = await client.options(
        "/api/v1/echo",
        headers={
            "origin": "https://app.example",
            "access-control-request-method": "POST",
            "access-control-request-headers": "authorization, content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://app.example"
    simple = await client.get("/api/v1/nothing", headers={"origin": "https://app.example"})
    assert simple.headers["access-control-allow-origin"] == "https://app.example"
    assert "x-request-id" in simple.headers["access-control-expose-headers"]


async def test_health_with_no_upstreams_is_healthy(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/health")
    assert response.status_code == 200
    assert response.json() == {"status": "healthy", "services": {}}


async def test_header_that_grpc_cannot_carry_is_400(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/api/v1/things/t1", headers={"idempotency-key": "caf\xe9".encode("latin-1")}
    )
    assert response.status_code == 400
    violations = response.json()["error"]["details"][1]["fieldViolations"]
    assert violations[0]["field"] == "idempotency-key"


async def test_path_the_router_cannot_match_is_still_json(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/things/a%0Ab/x/y")
    assert response.status_code == 404
    assert response.json()["error"]["status"] == "NOT_FOUND"


async def test_unsupported_method_is_405_with_allow(client: httpx.AsyncClient) -> None:
    response = await client.request("TRACE", "/api/v1/things/t1")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, PATCH, DELETE"
