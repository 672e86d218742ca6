"""AuthService over gRPC: proto in, domain call, proto out. Nothing else."""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass
from datetime import UTC
from typing import Any

from grpc import aio

from services.auth.accounts import Accounts, SignedIn
from services.auth.admin import Admin
from services.auth.api_keys import ApiKeys
from services.auth.byok import ProviderKeys
from services.auth.convert import (
    api_key_to_proto,
    event_to_proto,
    identity_provider_from_proto,
    profile_changes,
    provider_from_proto,
    provider_key_to_proto,
    role_from_proto,
    status_to_proto,
    user_to_proto,
)
from services.auth.credentials import Credentials
from services.auth.directory import Directory
from services.auth.oauth import OAuthSignIns
from tripsage.auth.v1 import auth_service_pb2 as pb
from tripsage.auth.v1 import auth_service_pb2_grpc as pb_grpc
from tripsage_core.errors import InvalidArgument
from tripsage_core.grpc_kit.access import current_caller, optional_caller
from tripsage_core.grpc_kit.caller import CREDENTIAL_EXPIRES_HEADER, client_address
from tripsage_core.grpc_kit.replies import page_reply
from tripsage_core.principal_proto import principal_to_proto

Context = aio.ServicerContext[Any, Any]


def _session_fields(signed_in: SignedIn) -> dict[str, Any]:
    return {
        "user": user_to_proto(signed_in.user),
        "access_token": signed_in.access_token,
        "refresh_token": signed_in.refresh_token,
        "expires_in": signed_in.expires_in,
        "token_type": "bearer",
    }


@dataclass(eq=False)
class AuthServicer(pb_grpc.AuthServiceServicer):
    accounts: Accounts
    _: KW_ONLY
    credentials: Credentials
    directory: Directory
    api_keys: ApiKeys
    provider_keys: ProviderKeys
    admin: Admin
    oauth: OAuthSignIns

    # Sessions and users

    async def Register(self, request: pb.RegisterRequest, context: Context) -> pb.RegisterResponse:
        signed_in = await self.accounts.register(
            email=request.email, password=request.password, full_name=request.full_name
        )
        return pb.RegisterResponse(**_session_fields(signed_in))

    async def Login(self, request: pb.LoginRequest, context: Context) -> pb.LoginResponse:
        signed_in = await self.accounts.login(
            email=request.email, password=request.password, address=client_address(context)
        )
        return pb.LoginResponse(**_session_fields(signed_in))

    async def RefreshSession(
        self, request: pb.RefreshSessionRequest, context: Context
    ) -> pb.RefreshSessionResponse:
        signed_in = await self.accounts.refresh(request.refresh_token)
        return pb.RefreshSessionResponse(**_session_fields(signed_in))

    async def Logout(self, request: pb.LogoutRequest, context: Context) -> pb.LogoutResponse:
        principal = current_caller()
        await self.accounts.logout(
            principal, refresh_token=request.refresh_token, all_sessions=request.all_sessions
        )
        return pb.LogoutResponse()

    async def GetCurrentUser(
        self, request: pb.GetCurrentUserRequest, context: Context
    ) -> pb.GetCurrentUserResponse:
        user = await self.accounts.current_user(current_caller())
        return pb.GetCurrentUserResponse(user=user_to_proto(user))

    async def UpdateCurrentUser(
        self, request: pb.UpdateCurrentUserRequest, context: Context
    ) -> pb.UpdateCurrentUserResponse:
        user = await self.accounts.update_current_user(
            current_caller(),
            profile_changes(request.user, list(request.update_mask.paths)),
            etag=request.user.etag,
        )
        return pb.UpdateCurrentUserResponse(user=user_to_proto(user))

    async def ChangePassword(
        self, request: pb.ChangePasswordRequest, context: Context
    ) -> pb.ChangePasswordResponse:
        await self.accounts.change_password(
            current_caller(),
            current_password=request.current_password,
            new_password=request.new_password,
            revoke_api_keys=request.revoke_api_keys,
            address=client_address(context),
        )
        return pb.ChangePasswordResponse()

    async def RequestPasswordReset(
        self, request: pb.RequestPasswordResetRequest, context: Context
    ) -> pb.RequestPasswordResetResponse:
        await self.accounts.request_password_reset(request.email, address=client_address(context))
        return pb.RequestPasswordResetResponse()

    async def ResetPassword(
        self, request: pb.ResetPasswordRequest, context: Context
    ) -> pb.ResetPasswordResponse:
        await self.accounts.reset_password(
            reset_token=request.reset_token, new_password=request.new_password
        )
        return pb.ResetPasswordResponse()

    async def RequestEmailVerification(
        self, request: pb.RequestEmailVerificationRequest, context: Context
    ) -> pb.RequestEmailVerificationResponse:
        await self.accounts.request_email_verification(
            current_caller(), address=client_address(context)
        )
        return pb.RequestEmailVerificationResponse()

    async def VerifyEmail(
        self, request: pb.VerifyEmailRequest, context: Context
    ) -> pb.VerifyEmailResponse:
        user = await self.accounts.verify_email(request.verification_token)
        return pb.VerifyEmailResponse(user=user_to_proto(user))

    # Sign-in with an identity provider

    async def StartOAuthSignIn(
        self, request: pb.StartOAuthSignInRequest, context: Context
    ) -> pb.StartOAuthSignInResponse:
        url, state = await self.oauth.start(
            identity_provider_from_proto(request.provider), request.redirect_uri
        )
        return pb.StartOAuthSignInResponse(authorization_url=url, state=state)

    async def CompleteOAuthSignIn(
        self, request: pb.CompleteOAuthSignInRequest, context: Context
    ) -> pb.CompleteOAuthSignInResponse:
        result = await self.oauth.complete(
            identity_provider_from_proto(request.provider),
            code=request.code,
            state=request.state,
            redirect_uri=request.redirect_uri,
        )
        return pb.CompleteOAuthSignInResponse(
            **_session_fields(result.signed_in), new_user=result.new_user
        )

    # Internal RPCs for other services

    async def ResolveCredential(
        self, request: pb.ResolveCredentialRequest, context: Context
    ) -> pb.ResolveCredentialResponse:
        principal, expires_at = await self.credentials.resolve(
            optional_caller(),
            access_token=request.access_token,
            api_key=request.api_key,
        )
        if expires_at is not None:
            context.set_trailing_metadata(
                ((CREDENTIAL_EXPIRES_HEADER, str(expires_at.timestamp())),)
            )
        return pb.ResolveCredentialResponse(principal=principal_to_proto(principal))

    async def LookupUsers(
        self, request: pb.LookupUsersRequest, context: Context
    ) -> pb.LookupUsersResponse:
        users = await self.directory.lookup(
            current_caller(), user_ids=list(request.user_ids), emails=list(request.emails)
        )
        return pb.LookupUsersResponse(
            users=[pb.UserProfile(id=u.id, email=u.email, full_name=u.full_name) for u in users]
        )

    async def ResolveProviderKey(
        self, request: pb.ResolveProviderKeyRequest, context: Context
    ) -> pb.ResolveProviderKeyResponse:
        found = await self.provider_keys.resolve(
            current_caller(), request.user_id, provider_from_proto(request.service)
        )
        if found is None:
            return pb.ResolveProviderKeyResponse(found=False)
        record, key = found
        return pb.ResolveProviderKeyResponse(
            found=True,
            api_key=key,
            status=status_to_proto(record.status),  # type: ignore[arg-type]
        )

    # API keys

    async def CreateApiKey(
        self, request: pb.CreateApiKeyRequest, context: Context
    ) -> pb.CreateApiKeyResponse:
        spec = request.api_key
        created = await self.api_keys.create(
            current_caller(),
            name=spec.name,
            scopes=list(spec.scopes),
            expires_at=spec.expire_time.ToDatetime(tzinfo=UTC)
            if spec.HasField("expire_time")
            else None,
        )
        return pb.CreateApiKeyResponse(api_key=api_key_to_proto(created.key), secret=created.secret)

    async def ListApiKeys(
        self, request: pb.ListApiKeysRequest, context: Context
    ) -> pb.ListApiKeysResponse:
        page = await self.api_keys.list(
            current_caller(),
            size=request.page_size,
            token=request.page_token,
            include_revoked=request.include_revoked,
        )
        return page_reply(pb.ListApiKeysResponse, "api_keys", page, api_key_to_proto)

    async def RevokeApiKey(
        self, request: pb.RevokeApiKeyRequest, context: Context
    ) -> pb.RevokeApiKeyResponse:
        key = await self.api_keys.revoke(current_caller(), request.api_key_id)
        return pb.RevokeApiKeyResponse(api_key=api_key_to_proto(key))

    # BYOK provider keys

    async def PutProviderKey(
        self, request: pb.PutProviderKeyRequest, context: Context
    ) -> pb.PutProviderKeyResponse:
        record = await self.provider_keys.put(
            current_caller(),
            provider_from_proto(request.service),
            request.api_key,
            validate=request.validate,
        )
        return pb.PutProviderKeyResponse(provider_key=provider_key_to_proto(record))

    async def ListProviderKeys(
        self, request: pb.ListProviderKeysRequest, context: Context
    ) -> pb.ListProviderKeysResponse:
        records = await self.provider_keys.list(current_caller())
        return pb.ListProviderKeysResponse(
            provider_keys=[provider_key_to_proto(r) for r in records]
        )

    async def ValidateProviderKey(
        self, request: pb.ValidateProviderKeyRequest, context: Context
    ) -> pb.ValidateProviderKeyResponse:
        record = await self.provider_keys.validate(
            current_caller(), provider_from_proto(request.service)
        )
        return pb.ValidateProviderKeyResponse(
            provider_key=provider_key_to_proto(record), valid=record.status == "valid"
        )

    async def DeleteProviderKey(
        self, request: pb.DeleteProviderKeyRequest, context: Context
    ) -> pb.DeleteProviderKeyResponse:
        await self.provider_keys.delete(current_caller(), provider_from_proto(request.service))
        return pb.DeleteProviderKeyResponse()

    async def ListProviderKeyEvents(
        self, request: pb.ListProviderKeyEventsRequest, context: Context
    ) -> pb.ListProviderKeyEventsResponse:
        page = await self.provider_keys.events(
            current_caller(),
            provider_from_proto(request.service),
            size=request.page_size,
            token=request.page_token,
        )
        return page_reply(pb.ListProviderKeyEventsResponse, "events", page, event_to_proto)

    # Administration

    async def ListUsers(
        self, request: pb.ListUsersRequest, context: Context
    ) -> pb.ListUsersResponse:
        page = await self.admin.list_users(
            current_caller(),
            query=request.query,
            role=role_from_proto(request.role),
            include_disabled=request.include_disabled,
            size=request.page_size,
            token=request.page_token,
        )
        return page_reply(pb.ListUsersResponse, "users", page, user_to_proto)

    async def SetUserDisabled(
        self, request: pb.SetUserDisabledRequest, context: Context
    ) -> pb.SetUserDisabledResponse:
        user = await self.admin.set_disabled(current_caller(), request.user_id, request.disabled)
        return pb.SetUserDisabledResponse(user=user_to_proto(user))

    async def SetUserRole(
        self, request: pb.SetUserRoleRequest, context: Context
    ) -> pb.SetUserRoleResponse:
        role = role_from_proto(request.role)
        if role is None:
            raise InvalidArgument.for_field("role", "must be USER_ROLE_USER or USER_ROLE_ADMIN")
        user = await self.admin.set_role(current_caller(), request.user_id, role)
        return pb.SetUserRoleResponse(user=user_to_proto(user))
