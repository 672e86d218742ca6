"""Deterministic randomness: the same query always draws the same numbers."""

from __future__ import annotations

import hashlib
import random
from decimal import Decimal

from tripsage_core.money import BUILT_IN_TABLE, REFERENCE_CURRENCY

NAME = "sandbox"


def rng(*parts: object) -> random.Random:
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))  # noqa: S311 - made-up data, not secrets


def priced_currency(requested: str) -> str:
    """The currency sandbox prices come in: the one asked for when the shared rate table
    knows it, else EUR."""
    return requested if BUILT_IN_TABLE.knows(requested) else REFERENCE_CURRENCY


def from_eur(amount_eur: float, currency: str) -> float:
    converted = BUILT_IN_TABLE.convert(Decimal(str(amount_eur)), REFERENCE_CURRENCY, currency)
    return float(converted if converted is not None else amount_eur)
