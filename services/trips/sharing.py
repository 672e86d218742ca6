"""Collaborators, invitations and activity entries as the domain sees them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class CollaboratorRole(StrEnum):
    VIEW = "view"
    EDIT = "edit"
    ADMIN = "admin"


@dataclass
class Collaborator:
    id: str
    trip_id: str
    user_id: str | None
    email: str
    full_name: str
    role: str
    state: str  # pending (invited by email, no account yet) or active
    invited_by: str
    created_at: datetime
    updated_at: datetime
    version: int = 1

    @property
    def etag(self) -> str:
        return str(self.version)


@dataclass
class Invitation:
    id: str
    trip_id: str
    trip_title: str
    role: str
    invited_by: str
    message: str
    created_at: datetime
    invited_by_name: str = ""


@dataclass
class Activity:
    id: str
    trip_id: str
    actor_id: str
    kind: str
    summary: str
    created_at: datetime
    details: dict[str, Any] = field(default_factory=dict)
    seq: int = 0
