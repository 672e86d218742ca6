"""Credentials withdrawn before they expire, shared by every replica through Redis.

Access tokens are stateless JWTs, so disabling a user, ending a session or
revoking an API key is written here; every service's CallerResolver checks
these keys on each call. A revoked session only needs remembering until its
access tokens expire; a disabled user stays listed until re-enabled.

Checking costs no Redis round trip in the steady state: each process keeps the
answers it has read, and Redis pushes the name of every revocation key that
changes (CLIENT TRACKING in broadcast mode over the key prefix, on one
dedicated connection subscribed to its own invalidations), so a cached answer
is dropped as soon as Redis writes the key; while the feed holds unread bytes the
cache is not used, so a push that has arrived counts at once. Bounded staleness, as docs/security.md
says: an answer is trusted for at most `trust_seconds` (2 s) even if a push
were lost, the tracking connection is pinged every second and every cached
answer is forgotten the moment it fails, and without tracking (a Redis that
refuses CLIENT TRACKING, or while reconnecting) every check reads Redis as
before.

Over Upstash's REST API (tripsage_core/upstash.py) there is no connection to push on,
and reading on every call would be an HTTPS round trip per RPC: there an answer is
simply re-read once it is `trust_seconds` old, so another replica's revocation counts
within that bound (a revocation made by this process counts at once).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import select
import time
from collections.abc import Iterable
from typing import Any

import redis.asyncio as redis
from redis.exceptions import RedisError, ResponseError

from tripsage_core.cache import pushes_invalidations
from tripsage_core.errors import Unauthenticated
from tripsage_core.identity import Principal

PREFIX = "tripsage:auth:revoked"
# Longest a cached answer is believed without Redis confirming it (a lost push costs at most
# this); over REST, where nothing is pushed, how stale an answer may be.
TRUST_SECONDS = 2.0
# The tracking connection is pinged when idle this long; no pong within as long again: blind.
PING_SECONDS = 1.0
_INVALIDATIONS = "__redis__:invalidate"
_MAX_ANSWERS = 100_000

logger = logging.getLogger("tripsage.revocations")


class Revocations:
    def __init__(
        self,
        client: redis.Redis,
        *,
        remember_seconds: int,
        trust_seconds: float = TRUST_SECONDS,
    ) -> None:
        self.redis = client
        # Long enough that every access token issued before a revocation has expired.
        self.remember_seconds = remember_seconds
        self.trust_seconds = trust_seconds
        # key -> (trusted until, revoked?); used only while `_live` (or polling).
        self._answers: dict[str, tuple[float, bool]] = {}
        # Bumped by every invalidation: an answer read across one is not kept.
        self._epoch = 0
        self._live = False
        self._tracking: asyncio.Task[None] | None = None
        # No pushes (REST): answers are kept for trust_seconds and then re-read.
        self._polling = not pushes_invalidations(client)
        self._untrackable = self._polling
        self._feed: Any = None  # the tracking connection while live

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
        self._forget([self._user(user_id)])

    async def enable_user(self, user_id: str) -> None:
        await self.redis.delete(self._user(user_id))
        self._forget([self._user(user_id)])

    async def revoke_sessions(self, session_ids: Iterable[str]) -> None:
        ids = [session_id for session_id in session_ids if session_id]
        if not ids:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for session_id in ids:
                pipe.set(self._session(session_id), b"1", ex=self.remember_seconds)
            await pipe.execute()
        self._forget([self._session(session_id) for session_id in ids])

    async def revoke_api_key(self, api_key_id: str) -> None:
        await self.redis.set(self._api_key(api_key_id), b"1", ex=self.remember_seconds)
        self._forget([self._api_key(api_key_id)])

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
        self._ensure_tracking()
        now = time.monotonic()
        revoked: dict[str, bool] = {}
        missing: list[str] = []
        trusted = self._polling or (self._live and not self._push_waiting())
        for key in keys:
            known = self._answers.get(key) if trusted else None
            if known is not None and known[0] > now:
                revoked[key] = known[1]
            else:
                missing.append(key)
        if missing:
            epoch, live = self._epoch, self._live
            found = await self.redis.mget(missing)
            keep = (self._polling or (live and self._live)) and epoch == self._epoch
            if keep and len(self._answers) >= _MAX_ANSWERS:
                self._answers.clear()
            for key, value in zip(missing, found, strict=True):
                revoked[key] = value is not None
                if keep:
                    self._answers[key] = (now + self.trust_seconds, value is not None)
        for key in keys:
            if not revoked[key]:
                continue
            if key.startswith(f"{PREFIX}:user:"):
                raise Unauthenticated("this account is disabled", reason="USER_DISABLED")
            if key.startswith(f"{PREFIX}:session:"):
                raise Unauthenticated(
                    "this session has ended; sign in again", reason="SESSION_ENDED"
                )
            raise Unauthenticated("this API key was revoked", reason="API_KEY_REVOKED")

    async def close(self) -> None:
        if self._tracking is not None:
            self._tracking.cancel()
            with contextlib.suppress(asyncio.CancelledError, RuntimeError):
                await self._tracking
            self._tracking = None
        self._blind()

    # -- the invalidation feed -------------------------------------------------------

    def _forget(self, keys: Iterable[str]) -> None:
        self._epoch += 1
        for key in keys:
            self._answers.pop(key, None)

    def _push_waiting(self) -> bool:
        """Whether the feed holds bytes not handled yet (a push that arrived before this
        call but whose task has not run): then this call reads Redis. One poll(2), no I/O."""
        try:
            reader = self._feed._reader
            if reader is not None and reader._buffer:
                return True
            fd = self._feed._writer.transport.get_extra_info("socket").fileno()
            readable, _, _ = select.select([fd], [], [], 0)
            return bool(readable)
        except (AttributeError, OSError, ValueError):
            return True  # cannot tell: do not trust the cache

    def _blind(self) -> None:
        """Nothing cached can be trusted any more (no feed): read Redis on every check."""
        self._live = False
        self._feed = None
        self._epoch += 1
        self._answers.clear()

    def _ensure_tracking(self) -> None:
        if self._untrackable:
            return
        loop = asyncio.get_running_loop()
        if self._tracking is not None and not self._tracking.done():
            if self._tracking.get_loop() is loop:
                return
            self._tracking.cancel()  # a previous event loop's (tests); start afresh here
            self._blind()
        self._tracking = loop.create_task(self._track(), name="revocation-tracking")

    async def _track(self) -> None:
        while True:
            pool = self.redis.connection_pool
            # Its own connection, outside the pool, that stays subscribed: RESP2, where the
            # invalidations arrive as plain pub/sub messages (REDIRECT to itself), and no
            # health-check PING from redis-py, which expects a plain PONG.
            conn: Any = pool.connection_class(
                **{
                    **pool.connection_kwargs,
                    "protocol": 2,
                    "health_check_interval": 0,
                    "maint_notifications_config": None,
                }
            )
            try:
                await conn.connect()
                await conn.send_command("CLIENT", "ID")
                client_id = await conn.read_response()
                # BCAST: every change of a key under the prefix is pushed, whoever reads it.
                await conn.send_command(
                    "CLIENT", "TRACKING", "ON", "REDIRECT", client_id, "BCAST", "PREFIX", PREFIX
                )
                await conn.read_response()
                await conn.send_command("SUBSCRIBE", _INVALIDATIONS)
                await conn.read_response()
                self._blind()  # whatever was cached before the feed began is suspect
                self._feed = conn
                self._live = True
                await self._follow(conn)
            except ResponseError as error:
                self._untrackable = True
                logger.warning(
                    "Redis refuses CLIENT TRACKING (%s): revocations read on every call", error
                )
                return
            except (RedisError, OSError, TimeoutError):
                pass  # reconnect below
            finally:
                self._blind()
                with contextlib.suppress(Exception):
                    await conn.disconnect(nowait=True)
            await asyncio.sleep(PING_SECONDS)

    async def _follow(self, conn: Any) -> None:
        ping_sent: float | None = None
        while True:
            message = await conn.read_response(timeout=PING_SECONDS)
            now = time.monotonic()
            if message is None:
                if ping_sent is not None and now - ping_sent > PING_SECONDS:
                    raise TimeoutError("the revocation feed stopped answering")
                if ping_sent is None:
                    await conn.send_command("PING")
                    ping_sent = now
                continue
            kind = message[0].lower() if isinstance(message, list) and message else b""
            if kind == b"pong":
                ping_sent = None
            elif kind == b"message":
                changed = message[2]
                if changed is None:  # FLUSHDB / FLUSHALL: everything may have changed
                    self._epoch += 1
                    self._answers.clear()
                else:
                    self._forget(k.decode() if isinstance(k, bytes) else k for k in changed)
