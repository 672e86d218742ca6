"""The rate table the trip summary converts item costs with.

These are fixed planning rates, not live market rates: a budget summary must
give the same figures every time it is asked. The built-in table below holds
reference rates; TRIPS_CURRENCY_RATES adds or overrides entries, e.g.
``USD=0.92,GBP=1.17,JPY=0.0061``, each the value of one unit of that currency in
euros (the table's reference currency). Every summary names the rates it used.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from services.trips.model import is_currency

REFERENCE_CURRENCY = "EUR"
BUILT_IN_SOURCE = "built-in reference table"
CONFIGURED_SOURCE = "TRIPS_CURRENCY_RATES"

# Value of one unit in EUR; approximate reference rates for planning.
BUILT_IN_RATES: dict[str, Decimal] = {
    "EUR": Decimal("1"),
    "USD": Decimal("0.92"),
    "GBP": Decimal("1.17"),
    "CHF": Decimal("1.05"),
    "JPY": Decimal("0.0061"),
    "CAD": Decimal("0.67"),
    "AUD": Decimal("0.60"),
    "NZD": Decimal("0.55"),
    "SEK": Decimal("0.087"),
    "NOK": Decimal("0.085"),
    "DKK": Decimal("0.134"),
    "PLN": Decimal("0.23"),
    "CZK": Decimal("0.040"),
    "HUF": Decimal("0.0025"),
    "MXN": Decimal("0.050"),
    "BRL": Decimal("0.17"),
    "INR": Decimal("0.011"),
    "CNY": Decimal("0.13"),
    "SGD": Decimal("0.69"),
    "THB": Decimal("0.026"),
    "TRY": Decimal("0.027"),
    "ZAR": Decimal("0.050"),
    "AED": Decimal("0.25"),
    "MAD": Decimal("0.092"),
}


class RateTableError(ValueError):
    pass


@dataclass(frozen=True)
class Rate:
    from_currency: str
    to_currency: str
    rate: Decimal
    source: str


@dataclass(frozen=True)
class RateTable:
    # Currency -> (value of one unit in REFERENCE_CURRENCY, where that figure comes from).
    entries: dict[str, tuple[Decimal, str]]

    def rate(self, from_currency: str, to_currency: str) -> Rate | None:
        if from_currency == to_currency:
            return Rate(from_currency, to_currency, Decimal(1), "same currency")
        source = self.entries.get(from_currency)
        target = self.entries.get(to_currency)
        if source is None or target is None:
            return None
        origin = CONFIGURED_SOURCE if CONFIGURED_SOURCE in (source[1], target[1]) else source[1]
        return Rate(from_currency, to_currency, source[0] / target[0], origin)


def parse_rates(text: str) -> dict[str, Decimal]:
    """'USD=0.92,GBP=1.17' -> {'USD': 0.92, 'GBP': 1.17}; RateTableError names a bad entry."""
    rates: dict[str, Decimal] = {}
    for entry in text.replace(";", ",").split(","):
        if not entry.strip():
            continue
        code, _, value = entry.partition("=")
        code = code.strip().upper()
        if not is_currency(code):
            raise RateTableError(f"TRIPS_CURRENCY_RATES: {code!r} is not an ISO 4217 code")
        try:
            rate = Decimal(value.strip())
        except InvalidOperation:
            raise RateTableError(
                f"TRIPS_CURRENCY_RATES: {entry.strip()!r} needs CODE=number"
            ) from None
        if not rate.is_finite() or rate <= 0:
            raise RateTableError(f"TRIPS_CURRENCY_RATES: the rate of {code} must be positive")
        rates[code] = rate
    return rates


def rate_table(configured: str = "") -> RateTable:
    entries = {code: (rate, BUILT_IN_SOURCE) for code, rate in BUILT_IN_RATES.items()}
    entries.update(
        {code: (rate, CONFIGURED_SOURCE) for code, rate in parse_rates(configured).items()}
    )
    return RateTable(entries)
