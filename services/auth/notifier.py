"""How links (password reset, email verification) reach their owner.

`SmtpNotifier` sends email through the server named by NOTIFIER_URL. The
`DevelopmentNotifier` only logs links, for a local suite; production refuses
to start with it unless password reset is switched off (tripsage_core.config),
because anyone who reads the logs could take over any account.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

logger = logging.getLogger("tripsage.auth.notifier")

SMTP_TIMEOUT_SECONDS = 10.0


class PasswordResetNotifier(Protocol):
    """Sends the links auth mails out: password resets and email verification."""

    async def send_password_reset(self, *, email: str, link: str) -> None: ...

    async def send_email_verification(self, *, email: str, link: str) -> None: ...


class DevelopmentNotifier:
    async def send_password_reset(self, *, email: str, link: str) -> None:
        logger.info("development notifier (no email sent): password reset for %s: %s", email, link)

    async def send_email_verification(self, *, email: str, link: str) -> None:
        logger.info(
            "development notifier (no email sent): email verification for %s: %s", email, link
        )


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    username: str | None
    password: str | None

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("NOTIFIER_URL must be smtp://[user:pass@]host[:port] or smtps://...")
        query = parse_qs(parts.query)
        implicit_tls = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if implicit_tls else 25),
            implicit_tls=implicit_tls,
            starttls=query.get("starttls", ["false"])[0].lower() in ("1", "true", "yes"),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


class SmtpNotifier:
    """Email over SMTP with the standard library, in a worker thread (smtplib blocks)."""

    def __init__(
        self, server: SmtpServer, *, from_address: str, tls: ssl.SSLContext | None = None
    ) -> None:
        self.server = server
        self.from_address = from_address
        self.tls = tls or ssl.create_default_context()

    async def send_password_reset(self, *, email: str, link: str) -> None:
        await self.send(
            email,
            "Reset your TripSage password",
            "Someone asked to reset the password of your TripSage account.\n\n"
            f"To choose a new password, open:\n{link}\n\n"
            "If it was not you, ignore this email; your password stays as it is.\n",
        )

    async def send_email_verification(self, *, email: str, link: str) -> None:
        await self.send(
            email,
            "Verify your TripSage email address",
            f"To confirm that this address is yours, open:\n{link}\n\n"
            "If you did not create a TripSage account, ignore this email.\n",
        )

    async def send(self, to: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"] = self.from_address
        message["To"] = to
        message["Subject"] = subject
        message.set_content(body)
        await asyncio.to_thread(self._deliver, message)

    def _deliver(self, message: EmailMessage) -> None:
        server = self.server
        smtp: smtplib.SMTP
        if server.implicit_tls:
            smtp = smtplib.SMTP_SSL(
                server.host, server.port, timeout=SMTP_TIMEOUT_SECONDS, context=self.tls
            )
        else:
            smtp = smtplib.SMTP(server.host, server.port, timeout=SMTP_TIMEOUT_SECONDS)
        with smtp:
            if server.starttls:
                smtp.starttls(context=self.tls)
            if server.username:
                smtp.login(server.username, server.password or "")
            smtp.send_message(message)
