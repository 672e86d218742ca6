"""Credentials withdrawn before they expire, shared by every replica through Redis.

Access tokens are stateless JWTs, so disabling a user, ending a session or
revoking an API key is written here; every service's CallerResolver checks
these keys on each call (one MGET), so the very next call anywhere is refused.
A revoked session only needs remembering until its access tokens expire; a
disabled user stays listed until re-enabled.
"""

from __future__ import annotations

from collections.abc import Iterable

import redis.asyncio as redis

from tripsage_core.errors import Unauthenticated
from tripsage_core.identity import Principal

PREFIX = "tripsage:auth:revoked"


class Revocations:
    def __init__(self, client: redis.Redis, *, remember_seconds: int) -> None:
        self.redis = client
        # Long enough that every access token issued before a revocation has expired.
        self.remember_seconds = remember_seconds

    @staticmethod
    def _user(user_id: str) -> str:
        return f"{PREFIX}:user:{user_id}"

    @staticmethod
    def _session(session_id: str) -> str:
        return f"{PREFIX}:session:{session_id}"

    @staticmethod
    def _api_key(api_key_id: str) -> str:
        return f"{PREFIX}:api-key:{api_key_id}"

    async def disable_user(self, user_id: str) -> None:
        await self.redis.set(self._user(user_id), b"1")

    async def enable_user(self, user_id: str) -> None:
        await self.redis.delete(self._user(user_id))

    async def revoke_sessions(self, session_ids: Iterable[str]) -> None:
        ids = [session_id for session_id in session_ids if session_id]
        if not ids:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for session_id in ids:
                pipe.set(self._session(session_id), b"1", ex=self.remember_seconds)
            await pipe.execute()

    async def revoke_api_key(self, api_key_id: str) -> None:
        await self.redis.set(self._api_key(api_key_id), b"1", ex=self.remember_seconds)

    async def check(self, principal: Principal) -> None:
        """Raises Unauthenticated when the principal's user, session or key was withdrawn."""
        keys: list[str] = []
        if principal.user_id:
            keys.append(self._user(principal.user_id))
        if principal.session_id:
            keys.append(self._session(principal.session_id))
        if principal.api_key_id:
            keys.append(self._api_key(principal.api_key_id))
        if not keys:
            return
        found = await self.redis.mget(keys)
        for key, value in zip(keys, found, strict=True):
            if value is None:
                continue
            if key.startswith(f"{PREFIX}:user:"):
                raise Unauthenticated("this account is disabled", reason="USER_DISABLED")
            if key.startswith(f"{PREFIX}:session:"):
                raise Unauthenticated(
                    "this session has ended; sign in again", reason="SESSION_ENDED"
                )
            raise Unauthenticated("this API key was revoked", reason="API_KEY_REVOKED")
