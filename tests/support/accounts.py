"""Test users: registered through the real auth service."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

import grpc

from tripsage.auth.v1 import auth_service_pb2 as auth_pb
from tripsage.auth.v1 import auth_service_pb2_grpc as auth_grpc

if TYPE_CHECKING:
    from tests.support.suite import RunningSuite

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


async def verified(suite: RunningSuite, account: Account) -> Account:
    """The same user with a verified email address, through the real flow.

    Follows the verification link auth sent at registration (or asks for a new
    one) from the suite's outbox, then refreshes the session so the returned
    access token carries `email_verified`.
    """
    async with grpc.aio.insecure_channel(suite.address("auth")) as channel:
        auth = auth_grpc.AuthServiceStub(channel)
        tokens = suite.outbox.tokens("email_verification", account.email)
        if not tokens:
            await auth.RequestEmailVerification(
                auth_pb.RequestEmailVerificationRequest(), metadata=account.metadata
            )
            tokens = suite.outbox.tokens("email_verification", account.email)
        await auth.VerifyEmail(auth_pb.VerifyEmailRequest(verification_token=tokens[-1]))
        refreshed = await auth.RefreshSession(
            auth_pb.RefreshSessionRequest(refresh_token=account.refresh_token)
        )
    return Account(account.id, account.email, refreshed.access_token, refreshed.refresh_token)
