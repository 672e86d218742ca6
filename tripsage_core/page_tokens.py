"""Opaque keyset page tokens shared by every list RPC: the last row's sort key, bound to
the filters that made it (a token from other filters is refused, not misread)."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from tripsage_core.errors import InvalidArgument

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100


def page_limit(
    page_size: int, *, default: int = DEFAULT_PAGE_SIZE, maximum: int = MAX_PAGE_SIZE
) -> int:
    if page_size < 0:
        raise InvalidArgument.for_field("page_size", "must not be negative")
    return min(page_size or default, maximum)


def encode_token(position: dict[str, Any], fingerprint: str) -> str:
    payload = {**position, "f": fingerprint}
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def decode_token(token: str, fingerprint: str) -> dict[str, Any]:
    """The position a token carries; InvalidArgument when it is not one of ours or the
    filters changed since it was issued."""
    try:
        payload = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if not isinstance(payload, dict):
            raise ValueError
    except (ValueError, binascii.Error):
        raise InvalidArgument.for_field("page_token", "is not a token this list returned") from None
    if payload.pop("f", None) != fingerprint:
        raise InvalidArgument.for_field(
            "page_token", "was issued for other filters; start again without it"
        )
    return payload


def token_field(payload: dict[str, Any], name: str) -> Any:
    try:
        return payload[name]
    except KeyError:
        raise InvalidArgument.for_field("page_token", "is not a token this list returned") from None
