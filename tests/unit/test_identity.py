"""Access tokens: Supabase's claim set, secret rotation, expiry and tampering."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest

from tripsage_core.config import Settings
from tripsage_core.errors import Unauthenticated
from tripsage_core.identity import CLOCK_SKEW_SECONDS, AccessTokens, Role, access_tokens

SECRET = "current-secret-0123456789abcdefghijklmnop"
OLD = "previous-secret-0123456789abcdefghijklmno"


def test_issued_tokens_carry_supabase_claims_and_verify() -> None:
    tokens = AccessTokens(SECRET, ttl_seconds=600)
    user_id, session_id = str(uuid.uuid4()), str(uuid.uuid4())
    issued = tokens.issue(
        user_id=user_id, email="a@example.com", role=Role.ADMIN, session_id=session_id
    )
    claims = jwt.decode(issued.token, SECRET, algorithms=["HS256"], audience="authenticated")
    assert {"sub", "email", "role", "aud", "exp", "iat", "session_id"} <= set(claims)
    assert claims["role"] == "authenticated"
    assert claims["exp"] - claims["iat"] == 600 == issued.expires_in
    principal = tokens.verify(issued.token)
    assert principal.user_id == user_id
    assert principal.session_id == session_id
    assert principal.is_admin


def test_previous_secret_is_accepted_until_removed() -> None:
    old_token = AccessTokens(OLD).issue(
        user_id=str(uuid.uuid4()), email="", role=Role.USER, session_id=""
    )
    assert AccessTokens(SECRET, previous_secret=OLD).verify(old_token.token).role is Role.USER
    with pytest.raises(Unauthenticated):
        AccessTokens(SECRET).verify(old_token.token)


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"exp": -120}, "TOKEN_EXPIRED"),
        ({"aud": "anon"}, "TOKEN_INVALID"),
        ({"role": "anon"}, "TOKEN_INVALID"),
        ({"sub": "not-a-uuid"}, "TOKEN_INVALID"),
    ],
)
def test_bad_tokens_are_refused(claims: dict[str, object], reason: str) -> None:
    now = int(time.time())
    base: dict[str, object] = {
        "iss": "tripsage",
        "sub": str(uuid.uuid4()),
        "aud": "authenticated",
        "role": "authenticated",
        "iat": now,
        "exp": now + 60,
    }
    if "exp" in claims:
        claims = {"exp": now + int(str(claims["exp"]))}
    token = jwt.encode({**base, **claims}, SECRET, algorithm="HS256")
    with pytest.raises(Unauthenticated) as caught:
        AccessTokens(SECRET).verify(token)
    assert caught.value.reason == reason


def test_clock_skew_is_tolerated() -> None:
    now = int(time.time())
    token = jwt.encode(
        {
            "iss": "tripsage",
            "sub": str(uuid.uuid4()),
            "aud": "authenticated",
            "role": "authenticated",
            "iat": now - 100,
            "exp": now - 10,
        },
        SECRET,
        algorithm="HS256",
    )
    assert AccessTokens(SECRET).verify(token).user_id


def test_none_algorithm_is_refused() -> None:
    token = jwt.encode({"sub": str(uuid.uuid4()), "aud": "authenticated"}, key="", algorithm="none")
    with pytest.raises(Unauthenticated):
        AccessTokens(SECRET).verify(token)


def _token_from(issuer: str | None) -> str:
    now = int(time.time())
    claims: dict[str, object] = {
        "sub": str(uuid.uuid4()),
        "aud": "authenticated",
        "role": "authenticated",
        "iat": now,
        "exp": now + 60,
    }
    if issuer is not None:
        claims["iss"] = issuer
    return jwt.encode(claims, SECRET, algorithm="HS256")


SUPABASE = "https://abcdefghijklmnop.supabase.co"


@pytest.mark.parametrize(
    ("settings", "issuer", "accepted"),
    [
        ({}, "tripsage", True),
        ({}, "https://evil.example.com", False),
        ({}, None, False),  # no issuer: refused, ours always carry one
        ({}, SUPABASE + "/auth/v1", False),  # a Supabase project only when configured
        ({"database_url": SUPABASE}, SUPABASE + "/auth/v1", True),
        ({"database_url": SUPABASE + "/"}, SUPABASE + "/auth/v1", True),
        ({"database_url": SUPABASE}, "https://other.supabase.co/auth/v1", False),
        ({"database_url": SUPABASE}, SUPABASE, False),
        ({"token_extra_issuers": "https://a.example,https://b.example"}, "https://b.example", True),
        ({"token_issuer": "https://auth.example"}, "https://auth.example", True),
        ({"token_issuer": "https://auth.example"}, "tripsage", False),
    ],
)
def test_only_accepted_issuers_verify(
    settings: dict[str, str], issuer: str | None, accepted: bool
) -> None:
    tokens = access_tokens(Settings(database_jwt_secret=SECRET, **settings))  # type: ignore[arg-type]
    token = _token_from(issuer)
    if accepted:
        assert tokens.verify(token).user_id
    else:
        with pytest.raises(Unauthenticated) as caught:
            tokens.verify(token)
        assert caught.value.reason == ("TOKEN_ISSUER" if issuer else "TOKEN_INVALID")
        if issuer:
            assert issuer not in caught.value.message  # the sender's text is not echoed


def test_tokens_carry_the_configured_issuer() -> None:
    tokens = access_tokens(
        Settings(database_jwt_secret=SECRET, token_issuer="https://auth.example")  # type: ignore[arg-type]
    )
    issued = tokens.issue(user_id=str(uuid.uuid4()), email="", role=Role.USER, session_id="")
    assert jwt.decode(issued.token, options={"verify_signature": False})["iss"] == (
        "https://auth.example"
    )
    assert tokens.verify(issued.token).user_id


def test_a_remembered_token_still_expires_and_others_are_still_checked() -> None:
    tokens = AccessTokens(SECRET, ttl_seconds=60)
    issued = tokens.issue(
        user_id=str(uuid.uuid4()), email="a@example.com", role=Role.USER, session_id="s"
    )
    first = tokens.verify(issued.token)
    assert tokens.verify(issued.token) == first  # remembered
    head, payload, signature = issued.token.split(".")
    with pytest.raises(Unauthenticated):
        tokens.verify(f"{head}.{payload}.{signature[::-1]}")
    # A token one second from the end of its clock skew: remembered no longer than that.
    now = int(time.time())
    ending = jwt.encode(
        {"iss": "tripsage", "sub": str(uuid.uuid4()), "aud": "authenticated",
         "role": "authenticated", "iat": now - 100, "exp": now - CLOCK_SKEW_SECONDS + 1},
        SECRET, algorithm="HS256",
    )  # fmt: skip
    assert tokens.verify(ending).user_id
    time.sleep(1.1)
    with pytest.raises(Unauthenticated) as expired:
        tokens.verify(ending)
    assert expired.value.reason == "TOKEN_EXPIRED"
