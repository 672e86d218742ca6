"""Auth lists page newest first by (created_at, id), with the shared opaque tokens."""

from __future__ import annotations

import uuid
from datetime import datetime

from tripsage_core import page_tokens
from tripsage_core.errors import InvalidArgument


def page_size(requested: int) -> int:
    return page_tokens.page_limit(requested)


def encode_token(created_at: datetime, row_id: str, scope: str = "") -> str:
    return page_tokens.encode_token({"t": created_at.isoformat(), "i": row_id}, scope)


def decode_token(token: str, scope: str = "") -> tuple[datetime, str] | None:
    """The position after which to continue; `scope` ties a token to the list's filters."""
    if not token:
        return None
    payload = page_tokens.decode_token(token, scope)
    try:
        created_at = datetime.fromisoformat(page_tokens.token_field(payload, "t"))
        return created_at, str(uuid.UUID(page_tokens.token_field(payload, "i")))
    except (ValueError, TypeError, AttributeError):
        raise InvalidArgument.for_field("page_token", "is not a token this list returned") from None
