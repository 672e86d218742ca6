"""AuthService over gRPC: proto in, domain call, proto out. Nothing else."""

from __future__ import annotations

from typing import Any

from grpc import aio

from services.auth.accounts import Accounts, SignedIn
from services.auth.store import UserRecord
from tripsage.auth.v1 import auth_service_pb2 as pb
from tripsage.auth.v1 import auth_service_pb2_grpc as pb_grpc
from tripsage_core.grpc_kit.caller import CallerResolver
from tripsage_core.grpc_kit.timestamps import to_timestamp
from tripsage_core.identity import Role

Context = aio.ServicerContext[Any, Any]

_ROLES = {Role.USER: pb.USER_ROLE_USER, Role.ADMIN: pb.USER_ROLE_ADMIN}


def user_to_proto(user: UserRecord) -> pb.User:
    return pb.User(
        id=user.id,
        email=user.email,
        full_name=user.full_name,
        role=_ROLES[user.role],
        email_verified=user.email_verified,
        disabled=user.disabled,
        create_time=to_timestamp(user.created_at),
        update_time=to_timestamp(user.updated_at),
        etag=f'W/"{user.version}"',
    )


def _session_fields(signed_in: SignedIn) -> dict[str, Any]:
    return {
        "user": user_to_proto(signed_in.user),
        "access_token": signed_in.access_token,
        "refresh_token": signed_in.refresh_token,
        "expires_in": signed_in.expires_in,
        "token_type": "bearer",
    }


class AuthServicer(pb_grpc.AuthServiceServicer):
    def __init__(self, accounts: Accounts, callers: CallerResolver) -> None:
        self.accounts = accounts
        self.callers = callers

    async def Register(self, request: pb.RegisterRequest, context: Context) -> pb.RegisterResponse:
        signed_in = await self.accounts.register(
            email=request.email, password=request.password, full_name=request.full_name
        )
        return pb.RegisterResponse(**_session_fields(signed_in))

    async def Login(self, request: pb.LoginRequest, context: Context) -> pb.LoginResponse:
        signed_in = await self.accounts.login(email=request.email, password=request.password)
        return pb.LoginResponse(**_session_fields(signed_in))

    async def RefreshSession(
        self, request: pb.RefreshSessionRequest, context: Context
    ) -> pb.RefreshSessionResponse:
        signed_in = await self.accounts.refresh(request.refresh_token)
        return pb.RefreshSessionResponse(**_session_fields(signed_in))

    async def Logout(self, request: pb.LogoutRequest, context: Context) -> pb.LogoutResponse:
        principal = await self.callers.require(context)
        await self.accounts.logout(
            principal, refresh_token=request.refresh_token, all_sessions=request.all_sessions
        )
        return pb.LogoutResponse()

    async def GetCurrentUser(
        self, request: pb.GetCurrentUserRequest, context: Context
    ) -> pb.GetCurrentUserResponse:
        user = await self.accounts.current_user(await self.callers.require(context))
        return pb.GetCurrentUserResponse(user=user_to_proto(user))
