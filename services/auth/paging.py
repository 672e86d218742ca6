"""Opaque keyset page tokens for the auth lists (newest first: created_at, id)."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime

from tripsage_core.errors import InvalidArgument

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100


def page_size(requested: int) -> int:
    if requested < 0:
        raise InvalidArgument.for_field("page_size", "must not be negative")
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def encode_token(created_at: datetime, row_id: str, scope: str = "") -> str:
    payload = {"t": created_at.isoformat(), "i": row_id, "s": scope}
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def decode_token(token: str, scope: str = "") -> tuple[datetime, str] | None:
    """The position after which to continue; `scope` ties a token to the list's filters."""
    if not token:
        return None
    try:
        padded = token + "=" * (-len(token) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded))
        if payload.get("s", "") != scope:
            raise ValueError("token of another listing")
        return datetime.fromisoformat(payload["t"]), str(uuid.UUID(payload["i"]))
    except (ValueError, KeyError, TypeError, AttributeError):
        raise InvalidArgument.for_field("page_token", "is not a token this list returned") from None
