"""A local SMTP server for tests (aiosmtpd) that keeps every message it receives, so a test
can follow a link that really went out by email."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller

from tripsage_core.embedded import free_port


class Inbox:
    def __init__(self, port: int) -> None:
        self.port = port
        self.messages: list[Message] = []

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"

    def to(self, email: str, subject_word: str) -> list[Message]:
        """Messages to `email` whose subject holds `subject_word`, oldest first."""
        return [m for m in self.messages if m["To"] == email and subject_word in m["Subject"]]

    @staticmethod
    def link_token(message: Message, link_prefix: str) -> str:
        """The token of the first link in the body that starts with `link_prefix`."""
        body = message.get_payload(decode=True).decode()  # type: ignore[union-attr]
        return body.split(f"{link_prefix}?token=", 1)[1].split()[0]


@contextmanager
def smtp_inbox() -> Iterator[Inbox]:
    inbox = Inbox(free_port())
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()
