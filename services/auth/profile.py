"""The user-editable part of a user: full name and travel preferences, with their rules.

Preferences are kept as the proto3 JSON of UserPreferences (snake_case keys,
enum names), so adding a preference to the contract needs no migration.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import airportsdata
import pycountry

from tripsage_core.errors import FieldErrors

MAX_NAME_LENGTH = 200
MAX_LIST_ITEMS = 20
MAX_ITEM_LENGTH = 100
PREFERENCE_FIELDS = (
    "home_airport",
    "currency",
    "cabin_class",
    "dietary_needs",
    "accessibility_needs",
    "travel_style",
    "budget_level",
)
EDITABLE_PATHS = ("full_name", "preferences", *(f"preferences.{f}" for f in PREFERENCE_FIELDS))


@lru_cache(maxsize=1)
def _iata_codes() -> frozenset[str]:
    return frozenset(airportsdata.load("IATA"))


def _clean_list(value: Any, field: str, errors: FieldErrors) -> list[str]:
    items = [str(item).strip() for item in value or () if str(item).strip()]
    if len(items) > MAX_LIST_ITEMS:
        errors.add(field, f"at most {MAX_LIST_ITEMS} items")
    if any(len(item) > MAX_ITEM_LENGTH for item in items):
        errors.add(field, f"each item must be at most {MAX_ITEM_LENGTH} characters")
    return list(dict.fromkeys(items))


def clean_preferences(preferences: dict[str, Any], errors: FieldErrors) -> dict[str, Any]:
    """Normalised preferences (unset ones left out); problems go to `errors`."""
    cleaned: dict[str, Any] = {}
    airport = str(preferences.get("home_airport") or "").strip().upper()
    if airport:
        if not re.fullmatch(r"[A-Z]{3}", airport) or airport not in _iata_codes():
            errors.add("user.preferences.home_airport", "must be an IATA airport code, e.g. LHR")
        cleaned["home_airport"] = airport
    currency = str(preferences.get("currency") or "").strip().upper()
    if currency:
        if not re.fullmatch(r"[A-Z]{3}", currency) or not pycountry.currencies.get(
            alpha_3=currency
        ):
            errors.add("user.preferences.currency", "must be an ISO 4217 code, e.g. EUR")
        cleaned["currency"] = currency
    for field in ("dietary_needs", "accessibility_needs"):
        items = _clean_list(preferences.get(field), f"user.preferences.{field}", errors)
        if items:
            cleaned[field] = items
    for field in ("cabin_class", "travel_style", "budget_level"):
        value = preferences.get(field)
        if value and not str(value).endswith("_UNSPECIFIED"):
            cleaned[field] = value
    return cleaned


def merge_changes(
    full_name: str, preferences: dict[str, Any], changes: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    """Applies field-mask changes ({path: value}) to the stored name and preferences."""
    merged = dict(preferences)
    for path, value in changes.items():
        if path == "full_name":
            full_name = str(value)
        elif path == "preferences":
            merged = dict(value)
        else:
            field = path.removeprefix("preferences.")
            if value in (None, "", []):
                merged.pop(field, None)
            else:
                merged[field] = value
    return full_name, merged


def check_full_name(full_name: str, errors: FieldErrors) -> str:
    name = full_name.strip()
    if len(name) > MAX_NAME_LENGTH:
        errors.add("user.full_name", f"must be at most {MAX_NAME_LENGTH} characters")
    return name
