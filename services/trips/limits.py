"""Every size limit of trips, itinerary items and collaborators, in one place.

Each text, list and JSON field a caller sets has a cap here; the validators
(model.validate, items.validate_item, Collaboration.add) check them and name
the field in a 400. docs/trips.md and docs/security.md list the numbers. With
these caps one row stays far below the gRPC message limit, and list pages are
also cut by bytes (tripsage_core.page_budget), so no page can exceed it.
"""

from __future__ import annotations

import json
from typing import Any

from tripsage_core.errors import FieldErrors

# Characters (code points), not bytes.
TITLE = 200  # trip and item titles, destination names
DESCRIPTION = 5000  # trip and item descriptions
TAGS = 30  # tags per trip
TAG = 50
DESTINATIONS = 50  # destinations per trip
SHORT_TEXT = 200  # item location name/address/place id, booking reference, provider, offer id
EMAIL = 320  # an invited address (RFC 5321's 64 + 1 + 255)
MESSAGE = 1000  # the note sent with an invitation
QUERY = 200  # ListTrips' text search
# Bytes of compact UTF-8 JSON.
PREFERENCES_BYTES = 16 * 1024
OFFER_SNAPSHOT_BYTES = 64 * 1024  # proto-encoded, as the travel service's offer was sent
# Rows.
ITEMS_PER_TRIP = 500
PEOPLE_PER_TRIP = 100  # collaborators and pending invitations together


def json_bytes(value: Any) -> int:
    """The size of `value` as compact UTF-8 JSON, the form a caller sends it in."""
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())


def check_text(errors: FieldErrors, field: str, value: str, limit: int) -> None:
    if len(value) > limit:
        errors.add(field, f"must be at most {limit} characters")


def check_count(errors: FieldErrors, field: str, values: list[Any], limit: int, what: str) -> None:
    if len(values) > limit:
        errors.add(field, f"at most {limit} {what}")


def check_json(errors: FieldErrors, field: str, value: Any, limit: int) -> None:
    if json_bytes(value) > limit:
        errors.add(field, f"must be at most {limit // 1024} KiB as JSON")
