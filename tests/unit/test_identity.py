"""Access tokens: Supabase's claim set, secret rotation, expiry and tampering."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest

from tripsage_core.errors import Unauthenticated
from tripsage_core.identity import AccessTokens, Role

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
