"""The notifier the test suite injects into auth: it keeps every message for tests to read."""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Sent:
    kind: str
    email: str
    link: str


@dataclass
class Outbox:
    sent: list[Sent] = field(default_factory=list)

    async def send_password_reset(self, *, email: str, link: str) -> None:
        self.sent.append(Sent("password_reset", email, link))

    async def send_email_verification(self, *, email: str, link: str) -> None:
        self.sent.append(Sent("email_verification", email, link))

    def links(self, kind: str, email: str) -> list[str]:
        """Links of this kind sent to `email` (any letter case), oldest first."""
        return [s.link for s in self.sent if s.kind == kind and s.email.lower() == email.lower()]

    def tokens(self, kind: str, email: str) -> list[str]:
        return [re.sub(r".*[?&]token=", "", link) for link in self.links(kind, email)]
