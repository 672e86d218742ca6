"""The running configuration as JSON, for support tickets and audits, secrets redacted.

Every setting is listed under its environment variable's name. A secret shows
only whether it is set; a secret URL keeps what an operator needs to check it
(scheme, user, host, port, database) with its password replaced.
"""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import SecretStr

from tripsage_core.config import Settings

REDACTED = "<redacted>"


def _redacted_url(text: str) -> str:
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return REDACTED
    if not parts.scheme or not parts.netloc:
        return REDACTED
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    user = parts.username or ""
    credentials = f"{user}:{REDACTED}@" if parts.password else (f"{user}@" if user else "")
    netloc = f"{credentials}{host}{f':{port}' if port else ''}"
    # Query strings may carry tokens (?password=, ?token=): only their names stay.
    query = "&".join(
        f"{part.split('=', 1)[0]}={REDACTED}" for part in parts.query.split("&") if part
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def _plain(value: Any) -> Any:
    if isinstance(value, SecretStr):
        secret = value.get_secret_value()
        return _redacted_url(secret) if "://" in secret else REDACTED
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(each) for each in value]
    if isinstance(value, dict):
        return {str(key): _plain(each) for key, each in value.items()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def exported(settings: Settings) -> dict[str, Any]:
    """{VARIABLE: value} for every setting, secrets redacted."""
    return {
        name.upper(): _plain(getattr(settings, name))
        for name in sorted(type(settings).model_fields)
    }


def exported_json(settings: Settings) -> str:
    return json.dumps(exported(settings), indent=2, ensure_ascii=False) + "\n"
