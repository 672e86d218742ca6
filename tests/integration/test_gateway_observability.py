"""Request ids, the access log and /metrics, over real HTTP through the real gateway
in front of the real services.

Every answer carries X-Request-ID (the caller's when sane, else a fresh one):
successes, upstream errors, the gateway's own 404/405/400s, its own endpoints
and streams. One access-log line per request with its structured fields.
/metrics (operators only) counts requests, errors and latency by route template,
status and consumer type, the requests in flight, and upstream call latency by
service and method.
"""

from __future__ import annotations

import json
import logging
import uuid

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.accounts import Account, register
from tests.support.suite import JWT_SECRET, OPERATOR_HEADERS, RunningSuite
from tripsage_core.identity import AccessTokens, Role
from tripsage_core.logging import JsonFormatter
from tripsage_core.request_context import request_id_var

pytestmark = pytest.mark.database

ACCESS_LOGGER = "tripsage.gateway.access"
TRIP_ROUTE = "/api/v1/trips/{trip_id}"


@pytest.fixture
async def ana(suite: RunningSuite) -> Account:
    return await register(suite.address("auth"), "ana")


async def _trip(http: httpx.AsyncClient, ana: Account) -> str:
    created = await http.post(
        "/api/v1/trips",
        headers=ana.headers,
        json={"title": "Ghent", "startDate": "2027-07-01", "endDate": "2027-07-03"},
    )
    assert created.status_code == 201, created.text
    return str(created.json()["trip"]["id"])


def _is_generated(request_id: str) -> bool:
    return len(request_id) == 32 and all(c in "0123456789abcdef" for c in request_id)


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("GET", "/api/health", {}, 200),
        ("GET", "/api/openapi.json", {}, 200),
        ("GET", "/metrics", {}, 404),  # not an operator
        ("GET", "/metrics", OPERATOR_HEADERS, 200),
        ("GET", "/api/v1/no-such-thing", {}, 404),
        ("DELETE", "/api/v1/trips", {}, 405),
        ("GET", "/api/v1/trips", {"grpc-timeout": "soon"}, 400),
        ("GET", "/api/v1/trips", {}, 401),  # the trips service's own refusal
        ("GET", f"/api/v1/trips/{uuid.uuid4()}", {"authorization": "Bearer tampered"}, 401),
    ],
)
async def test_every_answer_carries_the_callers_request_id(
    http: httpx.AsyncClient, method: str, path: str, headers: dict[str, str], status: int
) -> None:
    mine = f"obs-{uuid.uuid4().hex[:8]}"
    response = await http.request(method, path, headers={**headers, "x-request-id": mine})
    assert response.status_code == status, response.text
    assert response.headers["x-request-id"] == mine
    fresh = await http.request(method, path, headers=headers)
    assert _is_generated(fresh.headers["x-request-id"])


@pytest.mark.parametrize(
    "offered",
    ["x" * 129, "has space", "semi;colon", "<script>", "ünïcode", "a\tb"],
    ids=["too-long", "space", "semicolon", "markup", "non-ascii", "tab"],
)
async def test_an_invalid_request_id_is_replaced(http: httpx.AsyncClient, offered: str) -> None:
    response = await http.get(
        "/api/health",
        headers=[("x-request-id", offered.encode("utf-8"))],  # type: ignore[list-item]
    )
    assert _is_generated(response.headers["x-request-id"])


async def test_the_longest_valid_request_id_is_kept(http: httpx.AsyncClient) -> None:
    longest = "A-z0.9_:" * 16  # 128 characters of the allowed set
    response = await http.get("/api/health", headers={"x-request-id": longest})
    assert response.headers["x-request-id"] == longest


async def test_a_stream_carries_the_request_id(http: httpx.AsyncClient, ana: Account) -> None:
    made = await http.post("/api/v1/conversations", json={}, headers=ana.headers)
    conversation = made.json()["conversation"]["id"]
    async with http.stream(
        "POST",
        f"/api/v1/conversations/{conversation}/messages:stream",
        json={"content": "weather in Lisbon"},
        headers={**ana.headers, "x-request-id": "stream-id-1"},
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["x-request-id"] == "stream-id-1"
        assert [line async for line in response.aiter_lines() if line.startswith("data: ")]


async def test_one_access_log_line_per_request_with_its_fields(
    http: httpx.AsyncClient, ana: Account, caplog: pytest.LogCaptureFixture
) -> None:
    trip_id = await _trip(http, ana)
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        got = await http.get(
            f"/api/v1/trips/{trip_id}", headers={**ana.headers, "x-request-id": "log-user"}
        )
        missing = await http.get("/api/v1/nowhere", headers={"x-request-id": "log-anon"})
    assert got.status_code == 200
    assert missing.status_code == 404
    lines = {
        record.request_id: record  # type: ignore[attr-defined]
        for record in caplog.records
        if record.name == ACCESS_LOGGER
    }
    assert [r.request_id for r in caplog.records if r.name == ACCESS_LOGGER].count("log-user") == 1  # type: ignore[attr-defined]
    user = json.loads(JsonFormatter().format(lines["log-user"]))
    assert user["http_method"] == "GET"
    assert user["route"] == TRIP_ROUTE
    assert user["path"] == f"/api/v1/trips/{trip_id}"
    assert user["status"] == 200
    assert user["consumer"] == "user"
    assert user["request_id"] == "log-user"
    assert user["bytes_sent"] == len(got.content)
    assert user["duration_ms"] > 0
    assert trip_id not in user["message"]  # the template, not the path, in the message
    anonymous = json.loads(JsonFormatter().format(lines["log-anon"]))
    assert anonymous["route"] == "unmatched"
    assert anonymous["status"] == 404
    assert anonymous["consumer"] == "anonymous"
    assert anonymous["bytes_sent"] == len(missing.content)


class _RpcLines(logging.Handler):
    """The services' per-call log lines with the request id each would be written with
    (what tripsage_core/logging.py's filter adds to every line)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append((str(getattr(record, "method", "")), request_id_var.get()))


async def test_the_service_logs_the_request_id(http: httpx.AsyncClient, ana: Account) -> None:
    trip_id = await _trip(http, ana)
    rpc_logger = logging.getLogger("tripsage.rpc")
    lines = _RpcLines()
    rpc_logger.addHandler(lines)
    previous = rpc_logger.level
    rpc_logger.setLevel(logging.INFO)
    try:
        got = await http.get(
            f"/api/v1/trips/{trip_id}", headers={**ana.headers, "x-request-id": "follow-me-1"}
        )
    finally:
        rpc_logger.removeHandler(lines)
        rpc_logger.setLevel(previous)
    assert got.status_code == 200
    assert ("/tripsage.trips.v1.TripService/GetTrip", "follow-me-1") in lines.lines, lines.lines


def _samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    return [
        (sample.name, sample.labels, sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    ]


def _value(samples: list[tuple[str, dict[str, str], float]], name: str, **labels: str) -> float:
    return sum(
        value
        for found, found_labels, value in samples
        if found == name and all(found_labels.get(k) == v for k, v in labels.items())
    )


async def test_metrics_by_route_status_and_consumer(http: httpx.AsyncClient, ana: Account) -> None:
    trip_id = await _trip(http, ana)
    before = _samples((await http.get("/metrics", headers=OPERATOR_HEADERS)).text)
    for _ in range(3):
        assert (await http.get(f"/api/v1/trips/{trip_id}", headers=ana.headers)).is_success
    assert (await http.get(f"/api/v1/trips/{uuid.uuid4()}", headers=ana.headers)).status_code == 404
    assert (await http.get(f"/api/v1/trips/{trip_id}")).status_code == 401
    admin = AccessTokens(JWT_SECRET).issue(
        user_id=str(uuid.uuid4()), email="root@example.com", role=Role.ADMIN, session_id="s1"
    )
    await http.get("/api/v1/trips", headers={"authorization": f"Bearer {admin.token}"})
    reply = await http.get("/metrics", headers=OPERATOR_HEADERS)
    assert reply.status_code == 200
    after = _samples(reply.text)

    def grew(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    ok = {"method": "GET", "route": TRIP_ROUTE, "status": "200", "consumer": "user"}
    assert grew("tripsage_gateway_http_requests_total", **ok) == 3
    assert grew("tripsage_gateway_http_errors_total", **ok) == 0
    assert grew("tripsage_gateway_http_request_duration_seconds_count", **ok) == 3
    assert grew("tripsage_gateway_http_request_duration_seconds_bucket", le="+Inf", **ok) == 3
    not_found = {**ok, "status": "404"}
    assert grew("tripsage_gateway_http_errors_total", **not_found) == 1
    refused = {**ok, "status": "401", "consumer": "anonymous"}
    assert grew("tripsage_gateway_http_errors_total", **refused) == 1
    assert grew("tripsage_gateway_http_response_bytes_total", route=TRIP_ROUTE) > 0
    assert (
        grew("tripsage_gateway_http_requests_total", route="/api/v1/trips", consumer="admin") == 1
    )
    # The scrape itself is the one request in flight.
    assert _value(after, "tripsage_gateway_http_requests_in_flight") == 1
    get_trip = {"service": "trips", "grpc_method": "/tripsage.trips.v1.TripService/GetTrip"}
    upstream = "tripsage_gateway_upstream_call_duration_seconds_count"
    assert grew(upstream, grpc_code="OK", **get_trip) == 3
    assert grew(upstream, grpc_code="NOT_FOUND", **get_trip) == 1
    assert grew(upstream, grpc_code="UNAUTHENTICATED", **get_trip) == 1
