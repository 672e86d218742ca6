"""Deterministic randomness: the same query always draws the same numbers."""

from __future__ import annotations

import hashlib
import random

NAME = "sandbox"

# Rough reference rates to EUR (sandbox prices are made up; these only keep
# amounts plausible in the currency asked for).
EUR_RATES = {
    "EUR": 1.0,
    "USD": 1.08,
    "GBP": 0.85,
    "CHF": 0.95,
    "JPY": 160.0,
    "CAD": 1.47,
    "AUD": 1.63,
    "NZD": 1.78,
    "SEK": 11.4,
    "NOK": 11.6,
    "DKK": 7.46,
    "PLN": 4.3,
    "CZK": 25.0,
    "HUF": 390.0,
    "BRL": 5.6,
    "MXN": 18.5,
    "INR": 90.0,
    "CNY": 7.8,
    "HKD": 8.4,
    "SGD": 1.45,
    "THB": 38.0,
    "ZAR": 20.0,
    "TRY": 35.0,
    "AED": 3.97,
    "KRW": 1450.0,
}


def rng(*parts: object) -> random.Random:
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))  # noqa: S311 - made-up data, not secrets


def priced_currency(requested: str) -> str:
    """The currency sandbox prices come in: the one asked for when it has a rate, else EUR."""
    return requested if requested in EUR_RATES else "EUR"


def from_eur(amount_eur: float, currency: str) -> float:
    return amount_eur * EUR_RATES.get(currency, 1.0)
