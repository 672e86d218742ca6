"""Detailed health, components and metrics are for operators; /api/health stays public.

Over real HTTP in front of a real grpc.health.v1 server. Anyone without
OPERATOR_TOKEN or an administrator's access token sees 404, as for a path that
does not exist, so the internal addresses and traffic never reach them.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from gateway.app import create_app
from gateway.callers import GatewayCallers
from tests.integration.gateway_support.servers import grpc_server, http_server
from tests.support.suite import JWT_SECRET, OPERATOR_HEADERS, OPERATOR_TOKEN
from tripsage_core.identity import AccessTokens, Role
from tripsage_core.service_registry import SERVICES

INTERNAL = ("/api/health/detailed", "/api/health/components", "/metrics")


def _bearer(role: Role) -> dict[str, str]:
    issued = AccessTokens(JWT_SECRET).issue(
        user_id=str(uuid.uuid4()), email="op@example.com", role=role, session_id="s1"
    )
    return {"authorization": f"Bearer {issued.token}"}


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def gateway() -> AsyncIterator[tuple[str, str]]:
    servicer = health.aio.HealthServicer()
    for name in ("", *(service.grpc_service for service in SERVICES)):
        await servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    async with grpc_server(
        lambda server: health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    ) as address:
        callers = GatewayCallers(AccessTokens(JWT_SECRET), operator_token=OPERATOR_TOKEN)
        app = create_app({service.grpc_service: address for service in SERVICES}, callers=callers)
        async with http_server(app) as url:
            yield url, address


@pytest.mark.parametrize(
    "headers",
    [
        {},
        _bearer(Role.USER),
        {"authorization": "Bearer not-the-operator-token"},
        {"authorization": f"Bearer {OPERATOR_TOKEN}x"},
        {"authorization": f"Basic {OPERATOR_TOKEN}"},
        {"x-api-key": OPERATOR_TOKEN},
    ],
    ids=["anonymous", "user", "wrong-token", "longer-token", "basic", "as-api-key"],
)
@pytest.mark.parametrize("path", INTERNAL)
async def test_others_see_no_such_path(
    gateway: tuple[str, str], path: str, headers: dict[str, str]
) -> None:
    url, address = gateway
    async with httpx.AsyncClient(base_url=url) as http:
        reply = await http.get(path, headers=headers)
    assert reply.status_code == 404
    assert reply.json()["error"]["status"] == "NOT_FOUND"
    assert address not in reply.text
    assert "tripsage_gateway" not in reply.text


@pytest.mark.parametrize("path", INTERNAL)
@pytest.mark.parametrize(
    "headers", [OPERATOR_HEADERS, _bearer(Role.ADMIN)], ids=["operator-token", "admin"]
)
async def test_operators_read_them(
    gateway: tuple[str, str], path: str, headers: dict[str, str]
) -> None:
    url, address = gateway
    async with httpx.AsyncClient(base_url=url) as http:
        reply = await http.get(path, headers=headers)
    assert reply.status_code == 200, reply.text
    if path == "/metrics":
        assert "tripsage_gateway_http_requests_total" in reply.text
    else:
        assert reply.json()["services"]["auth"]["address"] == address


async def test_the_summary_stays_public_and_names_no_address(gateway: tuple[str, str]) -> None:
    url, address = gateway
    async with httpx.AsyncClient(base_url=url) as http:
        reply = await http.get("/api/health")
    assert reply.status_code == 200
    assert reply.json()["status"] == "healthy"
    assert address not in reply.text


def _endpoints_of_the_operators_reference() -> list[str]:
    text = (Path(__file__).resolve().parents[2] / "docs" / "operators.md").read_text()
    return sorted(set(re.findall(r"^GET (/\S*)", text, flags=re.MULTILINE)))


async def test_every_endpoint_of_the_operators_reference_answers_an_operator(
    gateway: tuple[str, str],
) -> None:
    paths = _endpoints_of_the_operators_reference()
    assert {"/api/health", "/api/health/detailed", "/metrics"} <= set(paths)
    url, _ = gateway
    async with httpx.AsyncClient(base_url=url) as http:
        for path in paths:
            reply = await http.get(path, headers=OPERATOR_HEADERS)
            assert reply.status_code == 200, (path, reply.status_code, reply.text[:200])
