"""Opaque keyset page tokens shared by every list RPC: the last row's sort key, bound to
the filters that made it (a token from other filters is refused, not misread).

A token is `base64url(JSON position).base64url(HMAC-SHA256)`, the MAC under a key
derived from SECRET_KEY. Any edit is refused as INVALID_ARGUMENT on `page_token`, so a
position inside a token is always one this service wrote. The previous SECRET_KEY
still verifies during a rotation, so pages in flight survive it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from typing import Any

from tripsage_core.config import Settings
from tripsage_core.errors import InvalidArgument
from tripsage_core.key_derivation import derive_key

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
_PURPOSE = "tripsage page tokens"
_MAC_BYTES = 16  # 128-bit tags: forging one is out of reach, tokens stay short
_NOT_OURS = "is not a token this list returned"

# Keys that sign (the first) and verify (all). A process serves one service, which
# installs its SECRET_KEY at start-up (use_settings); until then a random key
# keeps tokens authenticated within the process.
_keys: list[bytes] = [secrets.token_bytes(32)]


def use_secret(secret_key: str, previous_secret_key: str | None = None) -> None:
    """Signs with a key derived from `secret_key`; the previous secret still verifies."""
    keys = [derive_key(secret_key, _PURPOSE)]
    if previous_secret_key:
        keys.append(derive_key(previous_secret_key, _PURPOSE))
    _keys[:] = keys


def use_settings(settings: Settings) -> None:
    """Every service's start-up: sign with its SECRET_KEY (and verify SECRET_KEY_PREVIOUS)."""
    if settings.secret_key is None:  # load_settings fills or demands it; bare test settings
        return
    previous = settings.secret_key_previous
    use_secret(
        settings.secret_key.get_secret_value(), previous.get_secret_value() if previous else None
    )


def page_limit(
    page_size: int, *, default: int = DEFAULT_PAGE_SIZE, maximum: int = MAX_PAGE_SIZE
) -> int:
    if page_size < 0:
        raise InvalidArgument.for_field("page_size", "must not be negative")
    return min(page_size or default, maximum)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, body: str) -> bytes:
    return hmac.new(key, body.encode(), hashlib.sha256).digest()[:_MAC_BYTES]


def encode_token(position: dict[str, Any], fingerprint: str) -> str:
    payload = {**position, "f": fingerprint}
    body = _b64(json.dumps(payload, separators=(",", ":")).encode())
    return f"{body}.{_b64(_mac(_keys[0], body))}"


def decode_token(token: str, fingerprint: str) -> dict[str, Any]:
    """The position a token carries; InvalidArgument when it is not one of ours, was
    edited, or the filters changed since it was issued."""
    body, _, tag = token.partition(".")
    try:
        signed = any(hmac.compare_digest(_mac(key, body), _unb64(tag)) for key in _keys)
        payload = json.loads(_unb64(body)) if signed else None
        if not isinstance(payload, dict):
            raise ValueError
    except (ValueError, binascii.Error):
        raise InvalidArgument.for_field("page_token", _NOT_OURS) from None
    if payload.pop("f", None) != fingerprint:
        raise InvalidArgument.for_field(
            "page_token", "was issued for other filters; start again without it"
        )
    return payload


def token_field(payload: dict[str, Any], name: str) -> Any:
    try:
        return payload[name]
    except KeyError:
        raise InvalidArgument.for_field("page_token", _NOT_OURS) from None
