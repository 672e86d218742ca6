"""Limits on guessing: password checks and reset requests per account and per address.

Every attempt is counted in Redis *before* the work it guards (one round trip,
tripsage_core.rate_limit), so a burst of concurrent attempts cannot all see a
count of zero: at most `max_per_account` password checks happen per account
and window, however many arrive at once. Past the limit attempts are refused
with RESOURCE_EXHAUSTED and the time until the window ends, even with the
right password. After `slowdown_after` attempts each further one waits a
little longer (0.25 s doubling, at most 2 s). A successful check clears the
account's count and gives the attempt back to the address, so people signing
in behind one NAT do not use up each other's allowance.

Sign-in and ChangePassword's current-password check share one counter: both
are guesses at the same password. When Redis cannot be reached attempts are
refused (UNAVAILABLE): no guess is checked that could not be counted.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass

from redis.exceptions import RedisError

from tripsage_core.errors import ResourceExhausted, Unavailable
from tripsage_core.rate_limit import WindowCount, WindowCounter
from tripsage_core.security_events import DENIED, THROTTLED, security_event

logger = logging.getLogger("tripsage.auth.throttle")

MAX_DELAY_SECONDS = 2.0


@dataclass(frozen=True)
class ThrottlePolicy:
    window_seconds: int = 900
    slowdown_after: int = 3
    max_per_account: int = 5
    max_per_address: int = 50


def _account(email_normalized: str) -> str:
    # Hashed: Redis keys then hold no email addresses.
    return "account:" + hashlib.sha256(email_normalized.encode()).hexdigest()[:32]


def _address(address: str) -> str:
    return f"address:{address}"


class AttemptCounter:
    """Counts an attempt per account and per address; the one mechanism behind every limit here."""

    def __init__(self, counter: WindowCounter, policy: ThrottlePolicy, *, what: str) -> None:
        self.counter = counter
        self.policy = policy
        self.what = what

    async def count(self, email_normalized: str, address: str) -> tuple[WindowCount, WindowCount]:
        try:
            account, by_address = await self.counter.hit(
                [_account(email_normalized), _address(address)]
            )
        except (RedisError, OSError) as exc:
            logger.error("attempt counter unreachable: %s", exc)
            raise Unavailable(
                f"{self.what} is unavailable for a moment; try again shortly",
                reason="ATTEMPT_COUNTER_UNAVAILABLE",
                retry_after_seconds=5,
            ) from None
        return account, by_address

    def over_account(self, found: WindowCount) -> bool:
        return found.count > self.policy.max_per_account

    def over_address(self, found: WindowCount) -> bool:
        return found.count > self.policy.max_per_address

    def refusal(self, found: WindowCount, reason: str) -> ResourceExhausted:
        retry = max(found.retry_after_seconds, 1.0)
        return ResourceExhausted(
            f"too many {self.what} attempts; try again in {int(retry + 0.999)} seconds",
            reason=reason,
            retry_after_seconds=retry,
        )


class LoginThrottle:
    """Password checks (sign-in, ChangePassword) per account and per address."""

    def __init__(self, counter: WindowCounter, policy: ThrottlePolicy) -> None:
        self.attempts = AttemptCounter(counter, policy, what="sign-in")
        self.counter = counter
        self.policy = policy

    async def before_attempt(self, email_normalized: str, address: str) -> None:
        """Counts the attempt; raises once either limit is passed, else maybe waits a little."""
        account, by_address = await self.attempts.count(email_normalized, address)
        for found, over in (
            (account, self.attempts.over_account(account)),
            (by_address, self.attempts.over_address(by_address)),
        ):
            if over:
                security_event("sign_in_throttled", THROTTLED, client_address=address)
                raise self.attempts.refusal(found, "TOO_MANY_SIGN_IN_ATTEMPTS")
        # The attempts before this one; the first `slowdown_after` run at full speed.
        excess = account.count - 1 - self.policy.slowdown_after
        if excess >= 0:
            await asyncio.sleep(min(0.25 * 2**excess, MAX_DELAY_SECONDS))

    async def failed(self, email_normalized: str, address: str) -> None:
        # Already counted before the check; only the log line is left.
        security_event("sign_in_failed", DENIED, client_address=address)

    async def succeeded(self, email_normalized: str, address: str) -> None:
        try:
            await self.counter.reset(_account(email_normalized))
            await self.counter.give_back(_address(address))
        except (RedisError, OSError) as exc:  # the sign-in stands; the count just stays
            logger.warning("could not clear sign-in attempts: %s", exc)


class ResetRequestLimits:
    """Password-reset requests per account and per address.

    Past the per-address limit requests get RESOURCE_EXHAUSTED whatever email
    they name; past the per-account limit the answer stays the same but no
    further link is sent, so neither reveals which emails have accounts.
    """

    def __init__(self, counter: WindowCounter, policy: ThrottlePolicy) -> None:
        self.attempts = AttemptCounter(counter, policy, what="password reset")

    async def may_send(self, email_normalized: str, address: str) -> bool:
        account, by_address = await self.attempts.count(email_normalized, address)
        if self.attempts.over_address(by_address):
            raise self.attempts.refusal(by_address, "TOO_MANY_RESET_REQUESTS")
        return not self.attempts.over_account(account)
