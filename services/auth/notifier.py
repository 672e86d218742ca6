"""How a password-reset link reaches its owner.

The default writes the link to the log so an operator can pass it on; an
email sender implementing PasswordResetNotifier plugs in at the composition root.
"""

from __future__ import annotations

import logging
from typing import Protocol

logger = logging.getLogger("tripsage.auth.notifier")


class PasswordResetNotifier(Protocol):
    async def send_password_reset(self, *, email: str, link: str) -> None: ...


class LogNotifier:
    async def send_password_reset(self, *, email: str, link: str) -> None:
        logger.warning("password reset requested for %s: %s", email, link)
