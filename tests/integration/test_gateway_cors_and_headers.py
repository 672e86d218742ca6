"""CORS from CORS_ORIGINS / CORS_CREDENTIALS and the security headers, over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import httpx
import pytest
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from gateway.app import create_app
from gateway.rate_limit import RateLimiter
from gateway.security_headers import SecurityHeadersMiddleware
from tests.integration.gateway_support.servers import http_server
from tripsage_core.config import Settings
from tripsage_core.embedded import free_port
from tripsage_core.service_registry import SERVICES

APP_ORIGIN = "https://app.example"
DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'"
PREFLIGHT = {
    "access-control-request-method": "POST",
    "access-control-request-headers": "authorization, content-type, idempotency-key, if-match",
}


def _gateway(
    origins: Sequence[str] = (), credentials: bool = False, **options: object
) -> Starlette:
    dead = f"127.0.0.1:{free_port()}"
    return create_app(
        {service.grpc_service: dead for service in SERVICES},
        cors_origins=origins,
        cors_credentials=credentials,
        **options,  # type: ignore[arg-type]
    )


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    app = _gateway([APP_ORIGIN, "https://admin.example"], credentials=True)
    async with http_server(app) as url, httpx.AsyncClient(base_url=url) as client:
        yield client


async def test_a_preflight_from_an_allowed_origin_is_answered(http: httpx.AsyncClient) -> None:
    reply = await http.options("/api/v1/trips", headers={"origin": APP_ORIGIN, **PREFLIGHT})
    assert reply.status_code == 200
    assert reply.headers["access-control-allow-origin"] == APP_ORIGIN
    assert reply.headers["access-control-allow-credentials"] == "true"
    assert "POST" in reply.headers["access-control-allow-methods"]
    allowed = reply.headers["access-control-allow-headers"].lower()
    for name in ("authorization", "content-type", "idempotency-key", "if-match"):
        assert name in allowed
    assert reply.headers["vary"].lower().count("origin") >= 1


async def test_an_unknown_origin_is_refused(http: httpx.AsyncClient) -> None:
    evil = {"origin": "https://evil.example"}
    preflight = await http.options("/api/v1/trips", headers={**evil, **PREFLIGHT})
    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers
    simple = await http.get("/api/health", headers=evil)
    assert "access-control-allow-origin" not in simple.headers
    # A look-alike of an allowed origin is another origin.
    near = {"origin": f"{APP_ORIGIN}.evil.example"}
    assert (await http.options("/api/v1/trips", headers={**near, **PREFLIGHT})).status_code == 400


async def test_browsers_may_read_the_headers_a_client_needs(http: httpx.AsyncClient) -> None:
    reply = await http.get("/api/v1/trips", headers={"origin": APP_ORIGIN})
    assert reply.headers["access-control-allow-origin"] == APP_ORIGIN
    exposed = {h.strip() for h in reply.headers["access-control-expose-headers"].split(",")}
    assert {
        "ratelimit",
        "ratelimit-policy",
        "retry-after",
        "etag",
        "location",
        "x-request-id",
    } <= exposed


async def test_without_origins_every_preflight_is_refused() -> None:
    async with http_server(_gateway()) as url, httpx.AsyncClient(base_url=url) as http:
        reply = await http.options("/api/v1/trips", headers={"origin": APP_ORIGIN, **PREFLIGHT})
        assert reply.status_code == 400
        assert "access-control-allow-origin" not in reply.headers
        simple = await http.get("/api/health", headers={"origin": APP_ORIGIN})
        assert "access-control-allow-origin" not in simple.headers


async def test_any_origin_without_credentials() -> None:
    async with http_server(_gateway(["*"])) as url, httpx.AsyncClient(base_url=url) as http:
        reply = await http.get("/api/health", headers={"origin": "https://any.example"})
        assert reply.headers["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in reply.headers


def test_any_origin_with_credentials_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="CORS_ORIGINS may not be"):
        _gateway(["*"], credentials=True)
    with pytest.raises(ValidationError, match="CORS_ORIGINS may not be"):
        Settings(cors_origins=["*"], cors_credentials=True)
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example,*")
    monkeypatch.setenv("CORS_CREDENTIALS", "true")
    with pytest.raises(ValidationError, match="CORS_ORIGINS may not be"):
        Settings()
    monkeypatch.setenv("CORS_CREDENTIALS", "false")
    assert Settings().cors_origins == ["https://a.example", "*"]


async def test_a_refusal_by_the_rate_limiter_is_readable_from_the_browser() -> None:
    limiter = RateLimiter(None, per_minute=1)  # per process, no Redis needed here
    app = _gateway([APP_ORIGIN], rate_limiter=limiter)
    async with http_server(app) as url, httpx.AsyncClient(base_url=url) as http:
        await http.get("/api/v1/trips", headers={"origin": APP_ORIGIN})
        refused = await http.get("/api/v1/trips", headers={"origin": APP_ORIGIN})
    assert refused.status_code == 429
    assert refused.headers["access-control-allow-origin"] == APP_ORIGIN
    assert "retry-after" in refused.headers["access-control-expose-headers"]
    assert refused.headers["x-content-type-options"] == "nosniff"


def _assert_security_headers(reply: httpx.Response) -> None:
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert reply.headers["referrer-policy"] == "no-referrer"
    assert reply.headers["x-frame-options"] == "DENY"
    assert reply.headers["content-security-policy"] == DEFAULT_CSP


async def test_every_answer_carries_the_security_headers(http: httpx.AsyncClient) -> None:
    answers = [
        await http.get("/api/health"),  # the gateway's own endpoint (503: upstreams down)
        await http.get("/api/openapi.json"),
        await http.get("/api/v1/trips"),  # transcoded; the upstream is down
        await http.get("/api/v1/no-such-thing"),  # 404
        await http.delete("/api/openapi.json"),  # 405
        await http.options("/api/v1/trips", headers={"origin": "https://x.example", **PREFLIGHT}),
        await http.options("/api/v1/trips", headers={"origin": APP_ORIGIN, **PREFLIGHT}),
    ]
    assert len({reply.status_code for reply in answers}) >= 4
    for reply in answers:
        _assert_security_headers(reply)
        assert "strict-transport-security" not in reply.headers  # plain HTTP


async def test_hsts_only_behind_tls_as_a_trusted_proxy_says() -> None:
    https = {"x-forwarded-proto": "https"}
    async with (
        http_server(_gateway(), trusted_proxies=["127.0.0.1"]) as behind_proxy,
        http_server(_gateway()) as direct,
        httpx.AsyncClient() as http,
    ):
        secure = await http.get(f"{behind_proxy}/api/health", headers=https)
        assert secure.headers["strict-transport-security"] == (
            "max-age=31536000; includeSubDomains"
        )
        _assert_security_headers(secure)
        plain = await http.get(f"{behind_proxy}/api/health")
        assert "strict-transport-security" not in plain.headers
        # A client that is no trusted proxy cannot claim TLS.
        claimed = await http.get(f"{direct}/api/health", headers=https)
        assert "strict-transport-security" not in claimed.headers


async def test_a_response_with_its_own_policy_keeps_it() -> None:
    """As /api/docs and a web app served by the gateway will: their CSP is theirs."""
    own = "default-src 'self'; script-src 'self'"

    async def page(request: Request) -> HTMLResponse:
        return HTMLResponse(
            "<p>docs</p>",
            headers={"content-security-policy": own, "referrer-policy": "same-origin"},
        )

    async def plain(request: Request) -> HTMLResponse:
        return HTMLResponse("<p>plain</p>")

    app = SecurityHeadersMiddleware(Starlette(routes=[Route("/docs", page), Route("/", plain)]))
    async with http_server(app) as url, httpx.AsyncClient(base_url=url) as http:
        docs = await http.get("/docs")
        other = await http.get("/")
    assert docs.headers.get_list("content-security-policy") == [own]
    assert docs.headers.get_list("referrer-policy") == ["same-origin"]
    assert docs.headers["x-content-type-options"] == "nosniff"
    assert other.headers["content-security-policy"] == DEFAULT_CSP
