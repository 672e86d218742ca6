"""Test users: registered through the real auth service."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import grpc

from tripsage.auth.v1 import auth_service_pb2 as auth_pb
from tripsage.auth.v1 import auth_service_pb2_grpc as auth_grpc

PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Account:
    id: str
    email: str
    access_token: str
    refresh_token: str

    @property
    def metadata(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.access_token}"),)

    @property
    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.access_token}"}


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


async def register(auth_address: str, prefix: str = "user") -> Account:
    async with grpc.aio.insecure_channel(auth_address) as channel:
        reply = await auth_grpc.AuthServiceStub(channel).Register(
            auth_pb.RegisterRequest(email=unique_email(prefix), password=PASSWORD, full_name=prefix)
        )
    return Account(reply.user.id, reply.user.email, reply.access_token, reply.refresh_token)


def verified(account: Account) -> Account:
    """The same user and session with a verified email address.

    Stand-in until auth's verification flow lands: it re-signs the account's own
    token with the suite's secret and `email_verified` set. Once auth verifies
    addresses, this follows the real verification link instead.
    """
    import jwt

    from tests.support.suite import JWT_SECRET
    from tripsage_core.identity import AccessTokens, Role

    claims = jwt.decode(account.access_token, options={"verify_signature": False})
    role = Role(claims.get("app_metadata", {}).get("role", Role.USER.value))
    token = AccessTokens(JWT_SECRET).issue(
        user_id=account.id,
        email=account.email,
        role=role,
        session_id=str(claims.get("session_id", "")),
        email_verified=True,
    )
    return Account(account.id, account.email, token.token, account.refresh_token)
