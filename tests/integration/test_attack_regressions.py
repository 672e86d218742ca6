"""What held in the attack run, kept so over the gateway: the service credential is never
forwarded in any spelling, forged access tokens are refused, SQL injection strings are
stored literally, and concurrent retries of one idempotent create store one trip."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid

import httpx
import jwt
import pytest

from tests.support.accounts import Account, register
from tests.support.suite import JWT_SECRET, RunningSuite
from tripsage_core.service_credentials import ServiceCredentials

pytestmark = pytest.mark.database


@pytest.fixture
async def ana(suite: RunningSuite) -> Account:
    return await register(suite.address("auth"), "ana")


async def test_a_genuine_service_credential_is_never_forwarded_by_the_gateway(
    suite: RunningSuite, http: httpx.AsyncClient, ana: Account
) -> None:
    # Signed with the suite's real SECRET_KEY: auth would accept it if it arrived.
    secret = suite.settings.secret_key.get_secret_value()  # type: ignore[union-attr]
    genuine = ServiceCredentials(secret).issue("trips")
    for spelling in (
        "x-tripsage-service-token",
        "X-Tripsage-Service-Token",
        "X-TRIPSAGE-SERVICE-TOKEN",
    ):
        for headers in ({spelling: genuine}, {**ana.headers, spelling: genuine}):
            reply = await http.post(
                "/api/v1/users:lookup", json={"emails": [ana.email]}, headers=headers
            )
            assert reply.status_code in (401, 403), (spelling, reply.text)


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _forged_tokens(ana: Account) -> dict[str, str]:
    now = int(time.time())
    good: dict[str, object] = {
        "iss": "tripsage",
        "sub": ana.id,
        "aud": "authenticated",
        "role": "authenticated",
        "email": ana.email,
        "iat": now,
        "exp": now + 300,
        "session_id": str(uuid.uuid4()),
    }
    header, payload, signature = ana.access_token.split(".")
    claims = jwt.decode(ana.access_token, options={"verify_signature": False})
    admin_claims = {**claims, "app_metadata": {"role": "admin"}}
    return {
        "wrong secret": jwt.encode(good, "not-the-secret-0123456789abcdefghijklmnop"),
        "alg none": _b64({"alg": "none", "typ": "JWT"}) + "." + _b64(good) + ".",
        "expired": jwt.encode({**good, "iat": now - 7200, "exp": now - 3600}, JWT_SECRET),
        "anon audience": jwt.encode({**good, "aud": "anon"}, JWT_SECRET),
        "service role": jwt.encode({**good, "role": "service_role"}, JWT_SECRET),
        "no subject": jwt.encode({k: v for k, v in good.items() if k != "sub"}, JWT_SECRET),
        "subject not a user id": jwt.encode({**good, "sub": "admin"}, JWT_SECRET),
        "payload edited to admin": f"{header}.{_b64(admin_claims)}.{signature}",
        "signature cut": f"{header}.{payload}.",
        "garbage": "not.a.token",
        "HS384 with the secret": jwt.encode(good, JWT_SECRET, algorithm="HS384"),
    }


async def test_forged_access_tokens_are_refused_by_every_service(
    http: httpx.AsyncClient, ana: Account
) -> None:
    for name, token in _forged_tokens(ana).items():
        for path in ("/api/v1/users/me", "/api/v1/trips", "/api/v1/airports?query=LIS"):
            reply = await http.get(path, headers={"authorization": f"Bearer {token}"})
            assert reply.status_code == 401, (name, path, reply.text)
            assert reply.headers.get("www-authenticate", "").lower().startswith("bearer")


INJECTIONS = (
    "'; DROP TABLE tripsage_trips.trips; --",
    '" OR 1=1 --',
    "Robert'); DELETE FROM tripsage_auth.users;--",
    "%' OR '%'='",
)


async def test_sql_injection_strings_are_stored_literally(
    http: httpx.AsyncClient, ana: Account
) -> None:
    for text in INJECTIONS:
        created = await http.post(
            "/api/v1/trips",
            headers=ana.headers,
            json={"title": text, "description": text, "tags": [text[:40]]},
        )
        assert created.status_code == 201, created.text
        trip = created.json()["trip"]
        assert (trip["title"], trip["description"]) == (text, text)
        found = await http.get("/api/v1/trips", headers=ana.headers, params={"query": text})
        assert found.status_code == 200, found.text
        assert [t["title"] for t in found.json()["trips"]] == [text]
    listed = await http.get("/api/v1/trips", headers=ana.headers, params={"pageSize": 50})
    assert len(listed.json()["trips"]) == len(INJECTIONS)
    assert (await http.get("/api/v1/users/me", headers=ana.headers)).status_code == 200


async def test_concurrent_retries_of_one_create_store_one_trip(
    http: httpx.AsyncClient, ana: Account
) -> None:
    headers = {**ana.headers, "idempotency-key": f"retry-{uuid.uuid4()}"}
    body = {"title": "Porto", "startDate": "2027-06-01", "endDate": "2027-06-03"}
    replies = await asyncio.gather(
        *(http.post("/api/v1/trips", headers=headers, json=body) for _ in range(15))
    )
    assert {r.status_code for r in replies} <= {200, 201, 409}, [r.text for r in replies]
    assert [r.status_code for r in replies].count(201) == 1  # one create, the rest replays
    ids = {r.json()["trip"]["id"] for r in replies if r.status_code in (200, 201)}
    assert len(ids) == 1
    listed = await http.get("/api/v1/trips", headers=ana.headers, params={"query": "Porto"})
    assert [t["id"] for t in listed.json()["trips"]] == list(ids)
