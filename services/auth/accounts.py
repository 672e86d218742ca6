"""Auth use cases: register, sign in, refresh, sign out, who am I. No transport here."""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from services.auth.passwords import check_strength, hash_password, needs_rehash, verify_password
from services.auth.store import UserRecord, UserStore
from tripsage_core.errors import (
    AlreadyExists,
    FieldErrors,
    InvalidArgument,
    NotFound,
    Unauthenticated,
)
from tripsage_core.identity import AccessTokens, Principal

logger = logging.getLogger("tripsage.auth")

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_EMAIL_LENGTH = 254
MAX_NAME_LENGTH = 200


def normalize_email(email: str) -> str:
    return email.strip().lower()


@dataclass(frozen=True)
class SignedIn:
    user: UserRecord
    access_token: str
    refresh_token: str
    expires_in: int


class Accounts:
    def __init__(self, store: UserStore, tokens: AccessTokens, *, refresh_ttl_seconds: int) -> None:
        self.store = store
        self.tokens = tokens
        self.refresh_ttl = timedelta(seconds=refresh_ttl_seconds)

    async def register(self, *, email: str, password: str, full_name: str) -> SignedIn:
        errors = FieldErrors()
        normalized = normalize_email(email)
        if not normalized:
            errors.add("email", "is required")
        elif len(normalized) > MAX_EMAIL_LENGTH or not _EMAIL.match(normalized):
            errors.add("email", "is not a valid email address")
        try:
            check_strength(password)
        except InvalidArgument as exc:  # reported together with the other fields
            errors.violations.extend(exc.violations)
        if len(full_name) > MAX_NAME_LENGTH:
            errors.add("full_name", f"must be at most {MAX_NAME_LENGTH} characters")
        errors.raise_if_any()
        user = await self.store.create_user(
            email=email.strip(),
            email_normalized=normalized,
            full_name=full_name.strip(),
            password_hash=await asyncio.to_thread(hash_password, password),
        )
        if user is None:
            raise AlreadyExists("an account with this email already exists", reason="EMAIL_TAKEN")
        logger.info("user registered", extra={"user_id": user.id})
        return await self._sign_in(user)

    async def login(self, *, email: str, password: str) -> SignedIn:
        user = await self.store.user_by_email(normalize_email(email))
        # Verify even for unknown emails so timing does not reveal which exist.
        valid = await asyncio.to_thread(
            verify_password, user.password_hash if user else None, password
        )
        if user is None or not valid:
            raise Unauthenticated("email or password is incorrect", reason="INVALID_CREDENTIALS")
        if user.disabled:
            raise Unauthenticated("this account is disabled", reason="USER_DISABLED")
        if user.password_hash and needs_rehash(user.password_hash):
            await self.store.set_password_hash(
                user.id, await asyncio.to_thread(hash_password, password)
            )
        return await self._sign_in(user)

    async def refresh(self, refresh_token: str) -> SignedIn:
        if not refresh_token:
            raise Unauthenticated("refresh token is required", reason="REFRESH_TOKEN_INVALID")
        new_token = secrets.token_urlsafe(32)
        session, reused = await self.store.rotate_refresh_token(refresh_token, new_token)
        if session is None:
            raise Unauthenticated("refresh token is not valid", reason="REFRESH_TOKEN_INVALID")
        if reused:
            # A rotated token came back: whoever holds the chain may be a thief.
            await self.store.revoke_session(session.id, "refresh token reused")
            logger.warning("refresh token reuse; session revoked", extra={"session_id": session.id})
            raise Unauthenticated("refresh token was already used", reason="REFRESH_TOKEN_REUSED")
        if session.revoked_at is not None or session.expires_at <= datetime.now(UTC):
            raise Unauthenticated("session has ended; sign in again", reason="SESSION_ENDED")
        user = await self.store.user_by_id(session.user_id)
        if user is None or user.disabled:
            raise Unauthenticated("this account is disabled", reason="USER_DISABLED")
        issued = self.tokens.issue(
            user_id=user.id, email=user.email, role=user.role, session_id=session.id
        )
        return SignedIn(user, issued.token, new_token, issued.expires_in)

    async def logout(self, principal: Principal, *, refresh_token: str, all_sessions: bool) -> None:
        if all_sessions:
            await self.store.revoke_user_sessions(principal.user_id, "signed out everywhere")
            return
        session_id = principal.session_id
        if refresh_token:
            session = await self.store.session_for_refresh_token(refresh_token)
            if session is not None and session.user_id == principal.user_id:
                session_id = session.id
        if session_id:
            await self.store.revoke_session(session_id, "signed out")

    async def current_user(self, principal: Principal) -> UserRecord:
        user = await self.store.user_by_id(principal.user_id)
        if user is None:
            raise NotFound("user not found")
        if user.disabled:
            raise Unauthenticated("this account is disabled", reason="USER_DISABLED")
        return user

    async def _sign_in(self, user: UserRecord) -> SignedIn:
        refresh_token = secrets.token_urlsafe(32)
        session_id = await self.store.create_session(
            user_id=user.id,
            refresh_token=refresh_token,
            expires_at=datetime.now(UTC) + self.refresh_ttl,
        )
        issued = self.tokens.issue(
            user_id=user.id, email=user.email, role=user.role, session_id=session_id
        )
        return SignedIn(user, issued.token, refresh_token, issued.expires_in)
