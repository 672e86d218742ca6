"""Opaque keyset page tokens shared by every list RPC: the last row's sort key, bound to
the filters that made it (a token from other filters is refused, not misread).

A token is `base64url(JSON position).base64url(HMAC-SHA256)`, the MAC under a key
derived from SECRET_KEY. Any edit is refused as INVALID_ARGUMENT on `page_token`, so a
position inside a token is always one this service wrote. The previous SECRET_KEY
still verifies during a rotation, so pages in flight survive it.
"""

from __future__ import annotations

import binascii
import json
from typing import Any

from tripsage_core.errors import InvalidArgument
from tripsage_core.rotating_macs import RotatingMac, b64, unb64

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
NOT_OURS = "is not a token this list returned"

# A process serves one service, which installs its SECRET_KEY at start-up (ServiceRuntime).
SIGNER = RotatingMac("tripsage page tokens")
use_secret = SIGNER.use_secret

use_settings = SIGNER.use_settings


def page_limit(
    page_size: int, *, default: int = DEFAULT_PAGE_SIZE, maximum: int = MAX_PAGE_SIZE
) -> int:
    if page_size < 0:
        raise InvalidArgument.for_field("page_size", "must not be negative")
    return min(page_size or default, maximum)


def encode_token(position: dict[str, Any], fingerprint: str) -> str:
    payload = {**position, "f": fingerprint}
    body = b64(json.dumps(payload, separators=(",", ":")).encode())
    return f"{body}.{SIGNER.tag(body)}"


def decode_token(token: str, fingerprint: str) -> dict[str, Any]:
    """The position a token carries; InvalidArgument when it is not one of ours, was
    edited, or the filters changed since it was issued."""
    body, _, tag = token.partition(".")
    try:
        payload = json.loads(unb64(body)) if SIGNER.verify(body, tag) else None
        if not isinstance(payload, dict):
            raise ValueError
    except (ValueError, binascii.Error):
        raise InvalidArgument.for_field("page_token", NOT_OURS) from None
    if payload.pop("f", None) != fingerprint:
        raise InvalidArgument.for_field(
            "page_token", "was issued for other filters; start again without it"
        )
    return payload


def token_field(payload: dict[str, Any], name: str) -> Any:
    try:
        return payload[name]
    except KeyError:
        raise InvalidArgument.for_field("page_token", NOT_OURS) from None
