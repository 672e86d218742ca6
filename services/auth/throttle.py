"""Brute-force protection for sign-in: failed attempts per account and per address.

After `slowdown_after` failures each further attempt waits a little longer
(0.25 s doubling, at most 2 s); at the limit attempts are refused with
RESOURCE_EXHAUSTED and the time until the window ends, even with the right
password, so guessing cannot continue. A successful sign-in clears the
account's count. Counts live in Redis, shared by every replica.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass

from tripsage_core.errors import ResourceExhausted
from tripsage_core.rate_limit import WindowCounter

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


class LoginThrottle:
    def __init__(self, counter: WindowCounter, policy: ThrottlePolicy) -> None:
        self.counter = counter
        self.policy = policy

    async def before_attempt(self, email_normalized: str, address: str) -> None:
        account, by_address = await self.counter.counts(
            [_account(email_normalized), _address(address)]
        )
        for found, limit in (
            (account, self.policy.max_per_account),
            (by_address, self.policy.max_per_address),
        ):
            if found.count >= limit:
                retry = max(found.retry_after_seconds, 1.0)
                raise ResourceExhausted(
                    f"too many failed sign-ins; try again in {int(retry + 0.999)} seconds",
                    reason="TOO_MANY_SIGN_IN_ATTEMPTS",
                    retry_after_seconds=retry,
                )
        excess = account.count - self.policy.slowdown_after
        if excess >= 0:
            await asyncio.sleep(min(0.25 * 2**excess, MAX_DELAY_SECONDS))

    async def failed(self, email_normalized: str, address: str) -> None:
        await self.counter.add([_account(email_normalized), _address(address)])
        logger.info("sign-in failed", extra={"client_address": address})

    async def succeeded(self, email_normalized: str) -> None:
        await self.counter.reset(_account(email_normalized))
