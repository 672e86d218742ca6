"""ResolveCredential: what an access token or API key stands for."""

from __future__ import annotations

from datetime import datetime

from services.auth.api_keys import ApiKeys
from tripsage_core.errors import InvalidArgument, PermissionDenied
from tripsage_core.identity import AccessTokens, Principal
from tripsage_core.revocations import Revocations


class Credentials:
    def __init__(self, tokens: AccessTokens, api_keys: ApiKeys, revocations: Revocations) -> None:
        self.tokens = tokens
        self.api_keys = api_keys
        self.revocations = revocations

    async def resolve(
        self, caller: Principal | None, *, access_token: str, api_key: str
    ) -> tuple[Principal, datetime | None]:
        """(principal, when the credential stops working if known).

        An access token may be resolved by anyone holding it; API keys only by services,
        which is how every service turns an x-api-key into a principal."""
        expires_at: datetime | None = None
        if access_token:
            principal = self.tokens.verify(access_token)
        elif api_key:
            if caller is None or not caller.is_service:
                raise PermissionDenied(
                    "only TripSage services may resolve API keys", reason="SERVICE_ONLY"
                )
            principal, expires_at = await self.api_keys.resolve_with_expiry(api_key)
        else:
            raise InvalidArgument.for_field("credential", "give an access_token or an api_key")
        await self.revocations.check(principal)
        return principal, expires_at
