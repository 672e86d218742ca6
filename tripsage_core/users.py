"""Users as the services other than auth see them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class UserSummary:
    id: str
    email: str
    full_name: str
