"""Auth use cases: register, sign in, refresh, sign out, profile, passwords. No transport here."""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from dataclasses import KW_ONLY, dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from services.auth.api_keys import ApiKeys
from services.auth.notifier import PasswordResetNotifier
from services.auth.passwords import check_strength, hash_password, needs_rehash, verify_password
from services.auth.profile import EDITABLE_PATHS, check_full_name, clean_preferences, merge_changes
from services.auth.store import UserRecord, UserStore, refuse_disabled
from services.auth.throttle import LoginThrottle, ResetRequestLimits

# Re-exported: auth's other modules take them from here.
from tripsage_core.emails import email_problem as email_problem
from tripsage_core.emails import normalize_email as normalize_email
from tripsage_core.errors import (
    Aborted,
    AlreadyExists,
    FailedPrecondition,
    FieldErrors,
    InvalidArgument,
    NotFound,
    Unauthenticated,
)
from tripsage_core.identity import AccessTokens, Principal
from tripsage_core.revocations import Revocations
from tripsage_core.security_events import THROTTLED, security_event

logger = logging.getLogger("tripsage.auth")

_ETAG = re.compile(r'^(W/)?"(\d+)"$')
MAX_NAME_LENGTH = 200


@dataclass(frozen=True)
class SignedIn:
    user: UserRecord
    access_token: str
    refresh_token: str
    expires_in: int


@dataclass(frozen=True)
class VerificationPolicy:
    link_base: str
    ttl_seconds: int


def _link(base: str, token: str) -> str:
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}{urlencode({'token': token})}"


@dataclass(frozen=True)
class ResetPolicy:
    link_base: str
    ttl_seconds: int
    enabled: bool = True


@dataclass(eq=False)
class Accounts:
    store: UserStore
    tokens: AccessTokens
    _: KW_ONLY
    refresh_ttl_seconds: int
    revocations: Revocations
    api_keys: ApiKeys
    throttle: LoginThrottle
    notifier: PasswordResetNotifier
    reset_policy: ResetPolicy
    reset_limits: ResetRequestLimits
    verification_policy: VerificationPolicy

    async def register(self, *, email: str, password: str, full_name: str) -> SignedIn:
        errors = FieldErrors()
        normalized = normalize_email(email)
        if problem := email_problem(normalized):
            errors.add("email", problem)
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
        await self.send_verification(user)
        return await self.start_session(user)

    async def login(self, *, email: str, password: str, address: str) -> SignedIn:
        normalized = normalize_email(email)
        # Counted before the check, so a burst of guesses cannot outrun the limit.
        await self.throttle.before_attempt(normalized, address)
        user = await self.store.user_by_email(normalized)
        # Verify even for unknown emails so timing does not reveal which exist.
        valid = await asyncio.to_thread(
            verify_password, user.password_hash if user else None, password
        )
        if user is None or not valid:
            await self.throttle.failed(normalized, address)
            raise Unauthenticated("email or password is incorrect", reason="INVALID_CREDENTIALS")
        await self.throttle.succeeded(normalized, address)
        refuse_disabled(user)
        if user.password_hash and needs_rehash(user.password_hash):
            await self.store.set_password_hash(
                user.id, await asyncio.to_thread(hash_password, password)
            )
        return await self.start_session(user)

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
            await self.revocations.revoke_sessions([session.id])
            logger.warning("refresh token reuse; session revoked", extra={"session_id": session.id})
            raise Unauthenticated("refresh token was already used", reason="REFRESH_TOKEN_REUSED")
        if session.revoked_at is not None or session.expires_at <= datetime.now(UTC):
            raise Unauthenticated("session has ended; sign in again", reason="SESSION_ENDED")
        user = await self.store.active_user(session.user_id)
        issued = self.tokens.issue(
            user_id=user.id,
            email=user.email,
            role=user.role,
            session_id=session.id,
            email_verified=user.email_verified,
        )
        return SignedIn(user, issued.token, new_token, issued.expires_in)

    async def logout(self, principal: Principal, *, refresh_token: str, all_sessions: bool) -> None:
        if all_sessions:
            ended = await self.store.revoke_user_sessions(
                principal.user_id, "signed out everywhere"
            )
            await self.revocations.revoke_sessions([*ended, principal.session_id])
            return
        session_id = principal.session_id
        if refresh_token:
            session = await self.store.session_for_refresh_token(refresh_token)
            if session is not None and session.user_id == principal.user_id:
                session_id = session.id
        if session_id:
            await self.store.revoke_session(session_id, "signed out")
            await self.revocations.revoke_sessions([session_id])

    async def current_user(self, principal: Principal) -> UserRecord:
        user = await self.store.user_by_id(principal.user_id)
        if user is None:
            raise NotFound("user not found")
        return refuse_disabled(user)

    async def update_current_user(
        self, principal: Principal, changes: dict[str, Any], *, etag: str
    ) -> UserRecord:
        """Applies {field path: new value} (paths from EDITABLE_PATHS) if `etag` still matches."""
        unknown = sorted(set(changes) - set(EDITABLE_PATHS))
        if unknown:
            raise InvalidArgument.for_field(
                "update_mask",
                f"cannot change {', '.join(unknown)}; editable: full_name, preferences",
            )
        user = await self.current_user(principal)
        expected = _version_of(etag)
        if expected is not None and expected != user.version:
            raise Aborted(
                "the user changed since it was read; reload and retry", reason="STALE_ETAG"
            )
        full_name, preferences = merge_changes(user.full_name, user.preferences, changes)
        errors = FieldErrors()
        full_name = check_full_name(full_name, errors)
        preferences = clean_preferences(preferences, errors)
        errors.raise_if_any()
        updated = await self.store.update_profile(
            user.id, full_name=full_name, preferences=preferences, expected_version=user.version
        )
        if updated is None:
            raise Aborted(
                "the user changed since it was read; reload and retry", reason="STALE_ETAG"
            )
        return updated

    async def change_password(
        self,
        principal: Principal,
        *,
        current_password: str,
        new_password: str,
        revoke_api_keys: bool = False,
        address: str,
    ) -> None:
        user = await self.current_user(principal)
        check_strength(new_password, field="new_password")
        # A guess at the same password as sign-in: the same counter and limits.
        normalized = normalize_email(user.email)
        await self.throttle.before_attempt(normalized, address)
        if not await asyncio.to_thread(verify_password, user.password_hash, current_password):
            await self.throttle.failed(normalized, address)
            raise InvalidArgument.for_field("current_password", "is not your current password")
        await self.throttle.succeeded(normalized, address)
        await self.store.set_password_hash(
            user.id, await asyncio.to_thread(hash_password, new_password)
        )
        # The caller proved the password, so their own session stays; the others may
        # be someone else's. API keys are for servers, so ending them is the caller's
        # choice (a reset, below, ends them always).
        ended = await self.store.revoke_user_sessions(
            user.id, "password changed", keep_session_id=principal.session_id
        )
        await self.revocations.revoke_sessions(ended)
        if revoke_api_keys:
            await self.api_keys.revoke_all_of(user.id, "password changed")
        security_event("password_changed", user_id=user.id)

    async def request_password_reset(self, email: str, *, address: str) -> None:
        """The same answer for every email, so it does not tell which have accounts.

        Limited per address (429 whatever the email) and per account (past it no
        further link is sent, the answer unchanged).
        """
        if not self.reset_policy.enabled:
            raise FailedPrecondition("password reset is switched off", reason="RESET_DISABLED")
        normalized = normalize_email(email)
        if problem := email_problem(normalized):
            raise InvalidArgument.for_field("email", problem)
        if not await self.reset_limits.may_send(normalized, address):
            security_event("password_reset_requested", THROTTLED, client_address=address)
            return
        user = await self.store.user_by_email(normalized)
        if user is None or user.disabled:
            return
        token = secrets.token_urlsafe(32)
        await self.store.create_password_reset(
            user.id, token, datetime.now(UTC) + timedelta(seconds=self.reset_policy.ttl_seconds)
        )
        link = _link(self.reset_policy.link_base, token)
        await self.notifier.send_password_reset(email=user.email, link=link)

    async def send_verification(self, user: UserRecord) -> None:
        """A link that verifies the user's current address (random, stored hashed, single use)."""
        token = secrets.token_urlsafe(32)
        await self.store.create_email_verification(
            user.id,
            normalize_email(user.email),
            token,
            datetime.now(UTC) + timedelta(seconds=self.verification_policy.ttl_seconds),
        )
        link = _link(self.verification_policy.link_base, token)
        await self.notifier.send_email_verification(email=user.email, link=link)

    async def request_email_verification(self, principal: Principal, *, address: str) -> None:
        user = await self.current_user(principal)
        if user.email_verified:
            return
        # The reset limits guard this mailbox too: each request sends an email.
        if await self.reset_limits.may_send(normalize_email(user.email), address):
            await self.send_verification(user)

    async def verify_email(self, verification_token: str) -> UserRecord:
        if not verification_token:
            raise InvalidArgument.for_field("verification_token", "is required")
        user = await self.store.use_email_verification(verification_token)
        if user is None:
            raise InvalidArgument.for_field(
                "verification_token", "is not valid: it was used, has expired, or never existed"
            )
        logger.info("email verified", extra={"user_id": user.id})
        return user

    async def reset_password(self, *, reset_token: str, new_password: str) -> None:
        check_strength(new_password, field="new_password")
        if not reset_token:
            raise InvalidArgument.for_field("reset_token", "is required")
        user_id = await self.store.use_password_reset(
            reset_token, await asyncio.to_thread(hash_password, new_password)
        )
        if user_id is None:
            raise InvalidArgument.for_field(
                "reset_token", "is not valid: it was used, has expired, or never existed"
            )
        # A reset is how an owner recovers a taken-over account: nothing the intruder
        # holds survives it.
        await self.evict_everyone(user_id, "password reset")
        security_event("password_reset", user_id=user_id)

    async def evict_everyone(self, user_id: str, reason: str) -> None:
        """Ends every session and revokes every API key of the account, everywhere at once.
        Sessions first, so no session can mint a key afterwards."""
        ended = await self.store.revoke_user_sessions(user_id, reason)
        await self.revocations.revoke_sessions(ended)
        await self.api_keys.revoke_all_of(user_id, reason)

    async def reclaim_unverified(self, user: UserRecord) -> UserRecord:
        """The owner of the address proved it (a provider verified it) for an account whose
        address nobody had verified: whoever registered it may not own it, so their
        password, sessions and API keys stop working. The owner signs in through the
        provider, or sets a password with a reset."""
        await self.store.set_password_hash(user.id, None)
        await self.evict_everyone(user.id, "address verified by a provider")
        await self.store.mark_email_verified(user.id)
        logger.info("unverified account reclaimed by its address", extra={"user_id": user.id})
        return replace(user, email_verified=True, password_hash=None)

    async def start_session(self, user: UserRecord) -> SignedIn:
        refresh_token = secrets.token_urlsafe(32)
        session_id = await self.store.create_session(
            user_id=user.id,
            refresh_token=refresh_token,
            expires_at=datetime.now(UTC) + timedelta(seconds=self.refresh_ttl_seconds),
        )
        issued = self.tokens.issue(
            user_id=user.id,
            email=user.email,
            role=user.role,
            session_id=session_id,
            email_verified=user.email_verified,
        )
        return SignedIn(user, issued.token, refresh_token, issued.expires_in)


def _version_of(etag: str) -> int | None:
    if not etag:
        return None
    match = _ETAG.match(etag.strip())
    if match is None:
        raise InvalidArgument.for_field("user.etag", "is not an etag this service returned")
    return int(match.group(2))
