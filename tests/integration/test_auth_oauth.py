"""OAuth sign-in (authorization code + PKCE + state) against a local OAuth/OIDC provider:
Google-style OIDC and GitHub-style, creating accounts or linking by verified email."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import grpc
import httpx
import jwt
import pytest
import pytest_asyncio

from tests.support.accounts import PASSWORD, register, unique_email
from tests.support.auth_suite import start_suite
from tests.support.oauth_server import (
    CLIENT_ID,
    CLIENT_SECRET,
    OAuthTestServer,
    ProviderUser,
    serve_oauth_provider,
)
from tests.support.suite import RunningSuite
from tripsage.auth.v1 import auth_service_pb2 as pb
from tripsage.auth.v1 import auth_service_pb2_grpc as pb_grpc

pytestmark = pytest.mark.database

REDIRECT = "https://app.example.com/oauth/callback"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def provider() -> AsyncIterator[OAuthTestServer]:
    async with serve_oauth_provider() as server:
        yield server


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def suite(
    database_dsn: str,
    redis_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    provider: OAuthTestServer,
) -> AsyncIterator[RunningSuite]:
    base = provider.base_url
    running = await start_suite(
        database_dsn,
        redis_url,
        tmp_path_factory.mktemp("data"),
        oauth_redirect_uris=[REDIRECT],
        oauth_google_client_id=CLIENT_ID,
        oauth_google_client_secret=CLIENT_SECRET,
        oauth_google_authorize_url=f"{base}/authorize",
        oauth_google_token_url=f"{base}/token",
        oauth_google_userinfo_url=f"{base}/userinfo",
        oauth_google_jwks_url=f"{base}/jwks",
        oauth_google_issuer=base,
        oauth_github_client_id=CLIENT_ID,
        oauth_github_client_secret=CLIENT_SECRET,
        oauth_github_authorize_url=f"{base}/github/login/oauth/authorize",
        oauth_github_token_url=f"{base}/github/login/oauth/access_token",
        oauth_github_userinfo_url=f"{base}/github/user",
        oauth_github_emails_url=f"{base}/github/user/emails",
    )
    yield running
    await running.stop()


async def _browser_round_trip(authorization_url: str) -> tuple[str, str]:
    """What the browser does: visit the provider, follow its redirect back to us."""
    async with httpx.AsyncClient(timeout=10) as browser:
        reply = await browser.get(authorization_url, follow_redirects=False)
    assert reply.status_code == 302, reply.text
    location = urlsplit(reply.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    params = parse_qs(location.query)
    return params["code"][0], params["state"][0]


async def _sign_in(http: httpx.AsyncClient, provider_name: str) -> httpx.Response:
    started = await http.post(
        "/api/v1/auth/oauth:start", json={"provider": provider_name, "redirectUri": REDIRECT}
    )
    assert started.status_code == 200, started.text
    url = started.json()["authorizationUrl"]
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["state"] == [started.json()["state"]]
    code, state = await _browser_round_trip(url)
    return await http.post(
        "/api/v1/auth/oauth:complete",
        json={"provider": provider_name, "code": code, "state": state, "redirectUri": REDIRECT},
    )


def _verified_claim(token: str) -> bool:
    claims = jwt.decode(token, options={"verify_signature": False})
    return bool(claims.get("user_metadata", {}).get("email_verified"))


async def test_first_google_sign_in_creates_the_account_then_signs_it_in(
    http: httpx.AsyncClient, provider: OAuthTestServer
) -> None:
    email = unique_email("gina")
    provider.signed_in_as = ProviderUser(subject=uuid.uuid4().hex, email=email, name="Gina")
    first = await _sign_in(http, "IDENTITY_PROVIDER_GOOGLE")
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["newUser"] is True
    assert body["user"]["email"] == email
    assert body["user"]["fullName"] == "Gina"
    assert body["user"]["emailVerified"] is True
    assert _verified_claim(body["accessToken"])  # the provider verified it
    me = await http.get(
        "/api/v1/users/me", headers={"authorization": f"Bearer {body['accessToken']}"}
    )
    assert me.status_code == 200
    # The verifier went to the token endpoint (PKCE), with the client's secret.
    assert provider.token_requests[-1]["code_verifier"]
    second = await _sign_in(http, "IDENTITY_PROVIDER_GOOGLE")
    assert second.json().get("newUser", False) is False
    assert second.json()["user"]["id"] == body["user"]["id"]


async def test_github_sign_in_links_to_an_account_with_the_verified_email(
    suite: RunningSuite, http: httpx.AsyncClient, provider: OAuthTestServer
) -> None:
    existing = await register(suite.address("auth"), "gus")
    provider.signed_in_as = ProviderUser(
        subject=str(uuid.uuid4().int % 10**9), email=existing.email.upper(), name="Gus"
    )
    reply = await _sign_in(http, "IDENTITY_PROVIDER_GITHUB")
    assert reply.status_code == 200, reply.text
    assert reply.json()["user"]["id"] == existing.id
    assert reply.json().get("newUser", False) is False
    # The provider verified the address: the account and this session count it verified.
    assert reply.json()["user"]["emailVerified"] is True
    assert _verified_claim(reply.json()["accessToken"])
    # Nobody had verified the address before, so whoever registered it may not own it:
    # their password, sessions and API keys stop working (the owner can reset one).
    login = await http.post(
        "/api/v1/auth/login", json={"email": existing.email, "password": PASSWORD}
    )
    assert login.status_code == 401
    assert (await http.get("/api/v1/users/me", headers=existing.headers)).status_code == 401


async def test_a_squatter_on_an_unverified_address_loses_it_to_its_owner(
    suite: RunningSuite, http: httpx.AsyncClient, provider: OAuthTestServer
) -> None:
    squatter = await register(suite.address("auth"), "squat")
    key = await http.post("/api/v1/api-keys", headers=squatter.headers, json={"name": "mine"})
    assert key.status_code == 201, key.text
    secret = {"x-api-key": key.json()["secret"]}
    assert (await http.get("/api/v1/users/me", headers=secret)).status_code == 200
    provider.signed_in_as = ProviderUser(
        subject=str(uuid.uuid4().int % 10**9), email=squatter.email, name="Owner"
    )
    owner = await _sign_in(http, "IDENTITY_PROVIDER_GITHUB")
    assert owner.status_code == 200, owner.text
    assert (await http.get("/api/v1/users/me", headers=secret)).status_code == 401
    assert (await http.get("/api/v1/users/me", headers=squatter.headers)).status_code == 401
    refreshed = await http.post(
        "/api/v1/auth/refresh", json={"refreshToken": squatter.refresh_token}
    )
    assert refreshed.status_code == 401
    signed_in = {"authorization": f"Bearer {owner.json()['accessToken']}"}
    assert (await http.get("/api/v1/users/me", headers=signed_in)).status_code == 200


async def test_a_new_account_from_an_unverified_provider_email_is_unverified(
    http: httpx.AsyncClient, provider: OAuthTestServer
) -> None:
    provider.signed_in_as = ProviderUser(
        subject=uuid.uuid4().hex, email=unique_email("una"), email_verified=False
    )
    reply = await _sign_in(http, "IDENTITY_PROVIDER_GOOGLE")
    assert reply.status_code == 200, reply.text
    assert reply.json()["user"].get("emailVerified", False) is False
    assert not _verified_claim(reply.json()["accessToken"])


async def test_an_unverified_email_never_takes_over_an_account(
    suite: RunningSuite, http: httpx.AsyncClient, provider: OAuthTestServer
) -> None:
    victim = await register(suite.address("auth"), "vic")
    provider.signed_in_as = ProviderUser(
        subject=uuid.uuid4().hex, email=victim.email, email_verified=False
    )
    reply = await _sign_in(http, "IDENTITY_PROVIDER_GOOGLE")
    assert reply.status_code == 400
    assert reply.json()["error"]["status"] == "FAILED_PRECONDITION"


async def test_state_is_single_use_and_bound_to_the_flow(
    auth: pb_grpc.AuthServiceStub, provider: OAuthTestServer
) -> None:
    provider.signed_in_as = ProviderUser(subject=uuid.uuid4().hex, email=unique_email("sam"))
    started = await auth.StartOAuthSignIn(
        pb.StartOAuthSignInRequest(provider=pb.IDENTITY_PROVIDER_GOOGLE, redirect_uri=REDIRECT)
    )
    code, state = await _browser_round_trip(started.authorization_url)
    for bad_state in ("forged-state", ""):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await auth.CompleteOAuthSignIn(
                pb.CompleteOAuthSignInRequest(
                    provider=pb.IDENTITY_PROVIDER_GOOGLE,
                    code=code,
                    state=bad_state,
                    redirect_uri=REDIRECT,
                )
            )
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    request = pb.CompleteOAuthSignInRequest(
        provider=pb.IDENTITY_PROVIDER_GOOGLE, code=code, state=state, redirect_uri=REDIRECT
    )
    signed_in = await auth.CompleteOAuthSignIn(request)
    assert signed_in.new_user
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await auth.CompleteOAuthSignIn(request)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_a_code_the_provider_refuses_is_unauthenticated(
    auth: pb_grpc.AuthServiceStub,
) -> None:
    started = await auth.StartOAuthSignIn(
        pb.StartOAuthSignInRequest(provider=pb.IDENTITY_PROVIDER_GITHUB, redirect_uri=REDIRECT)
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await auth.CompleteOAuthSignIn(
            pb.CompleteOAuthSignInRequest(
                provider=pb.IDENTITY_PROVIDER_GITHUB,
                code="made-up-code",
                state=started.state,
                redirect_uri=REDIRECT,
            )
        )
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_redirect_uris_must_be_allowed(http: httpx.AsyncClient) -> None:
    reply = await http.post(
        "/api/v1/auth/oauth:start",
        json={"provider": "IDENTITY_PROVIDER_GOOGLE", "redirectUri": "https://evil.example/cb"},
    )
    assert reply.status_code == 400
    assert "redirect_uri" in reply.text
    missing = await http.post("/api/v1/auth/oauth:start", json={"redirectUri": REDIRECT})
    assert missing.status_code == 400


async def test_an_id_token_not_signed_by_the_issuer_is_refused(
    http: httpx.AsyncClient, provider: OAuthTestServer
) -> None:
    provider.signed_in_as = ProviderUser(subject=uuid.uuid4().hex, email=unique_email("fay"))
    provider.forge_id_tokens = True
    try:
        reply = await _sign_in(http, "IDENTITY_PROVIDER_GOOGLE")
    finally:
        provider.forge_id_tokens = False
    assert reply.status_code == 401
    assert "id_token" in reply.json()["error"]["message"]
