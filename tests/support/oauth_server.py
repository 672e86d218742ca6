"""A small OAuth 2.0 / OpenID Connect provider for tests, speaking the real protocol.

Two faces on one server:
  OIDC (Google-like):  GET /authorize, POST /token, GET /userinfo, GET /jwks;
                       id_tokens are RS256-signed with the key published at /jwks
                       and carry the nonce (`forge_id_tokens` signs with another key).
  GitHub-like:         GET /github/login/oauth/authorize,
                       POST /github/login/oauth/access_token, GET /github/user,
                       GET /github/user/emails.
The authorize endpoint "signs in" as `server.signed_in_as` and redirects back
with a code; the token endpoint checks client credentials, redirect URI and
the PKCE verifier (S256), and each code works once.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.support.http_server import serve_asgi

CLIENT_ID = "tripsage-test-client"
CLIENT_SECRET = "tripsage-test-client-secret-0123456789"
KEY_ID = "test-key-1"


def _rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class ProviderUser:
    subject: str
    email: str
    email_verified: bool = True
    name: str = "Test Person"


@dataclass
class _Grant:
    user: ProviderUser
    redirect_uri: str
    challenge: str
    nonce: str
    github: bool


@dataclass
class OAuthTestServer:
    base_url: str = ""
    signed_in_as: ProviderUser | None = None
    codes: dict[str, _Grant] = field(default_factory=dict)
    access_tokens: dict[str, ProviderUser] = field(default_factory=dict)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    signing_key: rsa.RSAPrivateKey = field(default_factory=_rsa_key)
    rogue_key: rsa.RSAPrivateKey = field(default_factory=_rsa_key)
    forge_id_tokens: bool = False

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/authorize", self.authorize),
                Route("/token", self.token, methods=["POST"]),
                Route("/userinfo", self.userinfo),
                Route("/jwks", self.jwks),
                Route("/github/login/oauth/authorize", self.authorize),
                Route("/github/login/oauth/access_token", self.token, methods=["POST"]),
                Route("/github/user", self.github_user),
                Route("/github/user/emails", self.github_emails),
            ]
        )

    async def authorize(self, request: Request) -> Response:
        query = request.query_params
        if query.get("client_id") != CLIENT_ID or query.get("response_type") != "code":
            return JSONResponse({"error": "unauthorized_client"}, status_code=400)
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        if self.signed_in_as is None:
            return JSONResponse({"error": "login_required"}, status_code=400)
        code = secrets.token_urlsafe(16)
        self.codes[code] = _Grant(
            user=self.signed_in_as,
            redirect_uri=query["redirect_uri"],
            challenge=query["code_challenge"],
            nonce=query.get("nonce", ""),
            github=request.url.path.startswith("/github/"),
        )
        back = urlencode({"code": code, "state": query.get("state", "")})
        return RedirectResponse(f"{query['redirect_uri']}?{back}", status_code=302)

    async def token(self, request: Request) -> Response:
        # application/x-www-form-urlencoded, as RFC 6749 requires.
        form = dict(parse_qsl((await request.body()).decode()))
        self.token_requests.append(form)
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        grant = self.codes.pop(form.get("code", ""), None)
        if grant is None or form.get("grant_type") != "authorization_code":
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
        if base64.urlsafe_b64encode(digest).decode().rstrip("=") != grant.challenge:
            return JSONResponse(
                {"error": "invalid_grant", "error_description": "PKCE verification failed"},
                status_code=400,
            )
        if form.get("redirect_uri") != grant.redirect_uri:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        access = secrets.token_urlsafe(24)
        self.access_tokens[access] = grant.user
        body: dict[str, Any] = {"access_token": access, "token_type": "Bearer"}
        if not grant.github:
            now = int(time.time())
            body["expires_in"] = 3600
            body["id_token"] = jwt.encode(
                {
                    "iss": self.base_url,
                    "aud": CLIENT_ID,
                    "sub": grant.user.subject,
                    "email": grant.user.email,
                    "email_verified": grant.user.email_verified,
                    "nonce": grant.nonce,
                    "iat": now,
                    "exp": now + 300,
                },
                self.rogue_key if self.forge_id_tokens else self.signing_key,
                algorithm="RS256",
                headers={"kid": KEY_ID},
            )
        return JSONResponse(body)

    async def jwks(self, request: Request) -> Response:
        public = RSAAlgorithm.to_jwk(self.signing_key.public_key(), as_dict=True)
        return JSONResponse({"keys": [{**public, "kid": KEY_ID, "use": "sig", "alg": "RS256"}]})

    def _bearer(self, request: Request) -> ProviderUser | None:
        header = request.headers.get("authorization", "")
        return self.access_tokens.get(header.removeprefix("Bearer ").strip())

    async def userinfo(self, request: Request) -> Response:
        user = self._bearer(request)
        if user is None:
            return JSONResponse({"error": "invalid_token"}, status_code=401)
        return JSONResponse(
            {
                "sub": user.subject,
                "email": user.email,
                "email_verified": user.email_verified,
                "name": user.name,
            }
        )

    async def github_user(self, request: Request) -> Response:
        user = self._bearer(request)
        if user is None:
            return JSONResponse({"message": "Bad credentials"}, status_code=401)
        return JSONResponse(
            {"id": int(user.subject), "login": user.name.lower().replace(" ", ""), "name": None}
        )

    async def github_emails(self, request: Request) -> Response:
        user = self._bearer(request)
        if user is None:
            return JSONResponse({"message": "Bad credentials"}, status_code=401)
        return JSONResponse(
            [
                {"email": "noreply@users.github.example", "primary": False, "verified": True},
                {"email": user.email, "primary": True, "verified": user.email_verified},
            ]
        )


@asynccontextmanager
async def serve_oauth_provider() -> AsyncIterator[OAuthTestServer]:
    server_state = OAuthTestServer()
    async with serve_asgi(server_state.app()) as base_url:
        server_state.base_url = base_url
        yield server_state
