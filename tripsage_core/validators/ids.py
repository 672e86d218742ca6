"""Ids in requests: a UUID or INVALID_ARGUMENT naming the field."""

from __future__ import annotations

import uuid

from tripsage_core.errors import InvalidArgument


def parse_uuid(value: str, field: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidArgument.for_field(field, f"is not a valid {what} id") from None
