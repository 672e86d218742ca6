"""BYOK encryption and service credentials: the cryptographic rules, without a server."""

from __future__ import annotations

import time

import jwt
import pytest

from tripsage_core.errors import Unauthenticated
from tripsage_core.identity import Principal, PrincipalKind, Role
from tripsage_core.key_encryption import KeyEncryption, UndecryptableError
from tripsage_core.service_credentials import SERVICE_AUDIENCE, ServiceCredentials

OLD = "old-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
NEW = "new-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"


def test_sealed_keys_round_trip_and_differ_every_time() -> None:
    box = KeyEncryption(NEW)
    first = box.seal("sk-secret", associated="user-1:openai")
    second = box.seal("sk-secret", associated="user-1:openai")
    assert first.ciphertext != second.ciphertext
    assert first.salt != second.salt
    assert b"sk-secret" not in first.ciphertext
    assert box.open(first, associated="user-1:openai") == "sk-secret"


def test_a_ciphertext_is_bound_to_its_owner_and_provider() -> None:
    box = KeyEncryption(NEW)
    sealed = box.seal("sk-secret", associated="user-1:openai")
    with pytest.raises(UndecryptableError):
        box.open(sealed, associated="user-2:openai")


def test_the_previous_secret_key_decrypts_until_removed() -> None:
    sealed = KeyEncryption(OLD).seal("duffel_test_x", associated="u:duffel")
    rotating = KeyEncryption(NEW, previous_secret_key=OLD)
    assert rotating.open(sealed, associated="u:duffel") == "duffel_test_x"
    assert rotating.seal("x", associated="u:duffel").key_id == rotating.current_key_id
    with pytest.raises(UndecryptableError):
        KeyEncryption(NEW).open(sealed, associated="u:duffel")


def test_service_credentials_carry_the_end_user() -> None:
    credentials = ServiceCredentials(NEW)
    user = Principal(
        user_id="5b0f3c1e-8f5a-4a57-9a55-1b2a3c4d5e6f",
        email="a@example.com",
        role=Role.ADMIN,
        kind=PrincipalKind.API_KEY,
        scopes=("trips:read",),
        api_key_id="k1",
    )
    relayed = credentials.verify(credentials.issue("assistant", user))
    assert relayed.user_id == user.user_id
    assert relayed.role is Role.ADMIN
    assert relayed.kind is PrincipalKind.API_KEY
    assert relayed.scopes == ("trips:read",)
    assert relayed.via_service == "assistant"
    alone = credentials.verify(credentials.issue("travel"))
    assert alone.kind is PrincipalKind.SERVICE
    assert not alone.user_id


def test_service_credentials_of_another_secret_or_expired_are_refused() -> None:
    with pytest.raises(Unauthenticated):
        ServiceCredentials(NEW).verify(ServiceCredentials(OLD).issue("trips"))
    assert (
        ServiceCredentials(NEW, previous_secret_key=OLD)
        .verify(ServiceCredentials(OLD).issue("trips"))
        .is_service
    )
    # Signed with SECRET_KEY itself (not the derived key) is not a credential either.
    now = int(time.time())
    raw = jwt.encode(
        {"sub": "service:trips", "aud": SERVICE_AUDIENCE, "role": "service_role", "iat": now,
         "exp": now + 60},
        NEW,
        algorithm="HS256",
    )  # fmt: skip
    with pytest.raises(Unauthenticated):
        ServiceCredentials(NEW).verify(raw)
