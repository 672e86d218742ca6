"""Money, as every service holds it: google.type.Money <-> Decimal, the rules an
amount follows, and the one table of planning exchange rates.

Amounts are exact (Decimal, nanos of a unit); google.type.Money's units and nanos
share the amount's sign. Rates are fixed reference rates, not market rates: a
budget summary or a sandbox price must be the same every time it is asked. Each
is the value of one unit of that currency in euros; TRIPS_CURRENCY_RATES adds or
overrides entries in the same convention (``USD=0.92,GBP=1.17``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import pycountry
from google.type import money_pb2

from tripsage_core.errors import FieldErrors

NANOS = 1_000_000_000
CENT = Decimal("0.01")
REFERENCE_CURRENCY = "EUR"
BUILT_IN_SOURCE = "built-in reference table"
CONFIGURED_SOURCE = "TRIPS_CURRENCY_RATES"
# The most a google.type.Money may say here: far beyond any trip, and Decimal-exact.
MAX_UNITS = 10**15


def is_currency(code: str) -> bool:
    """An ISO 4217 currency code such as EUR (upper case)."""
    return (
        bool(re.fullmatch(r"[A-Z]{3}", code)) and pycountry.currencies.get(alpha_3=code) is not None
    )


@dataclass
class Money:
    """google.type.Money: whole units plus nanos (same sign), in an ISO 4217 currency."""

    currency: str
    units: int = 0
    nanos: int = 0

    def amount(self) -> Decimal:
        return Decimal(self.units) + Decimal(self.nanos) / NANOS

    @classmethod
    def of(cls, currency: str, amount: Decimal) -> Money:
        nanos_total = int((amount * NANOS).to_integral_value())
        # Truncate toward zero so units and nanos share the sign, as Money requires.
        units = abs(nanos_total) // NANOS * (1 if nanos_total >= 0 else -1)
        return cls(currency, units, nanos_total - units * NANOS)


def money_problems(
    money: Money, where: str, errors: FieldErrors, *, positive: bool = False
) -> None:
    """The rules every amount follows: a known currency, not negative (more than zero
    when `positive`), nanos in range and of the units' sign, not absurdly large."""
    if not is_currency(money.currency):
        errors.add(f"{where}.currency_code", "must be an ISO 4217 code such as EUR")
    if abs(money.nanos) >= NANOS:
        errors.add(f"{where}.nanos", "must be between -999999999 and 999999999")
    elif money.units < 0 or money.nanos < 0:
        errors.add(where, "must not be negative")
    elif positive and money.units == 0 and money.nanos == 0:
        errors.add(where, "must be more than zero")
    if abs(money.units) > MAX_UNITS:
        errors.add(f"{where}.units", f"must be at most {MAX_UNITS}")


def from_proto(message: money_pb2.Money) -> Money:
    return Money(message.currency_code.strip().upper(), message.units, message.nanos)


def to_proto(money: Money) -> money_pb2.Money:
    return money_pb2.Money(currency_code=money.currency, units=money.units, nanos=money.nanos)


def proto_amount(message: money_pb2.Money) -> Decimal:
    return from_proto(message).amount()


def proto_of(amount: Decimal | float | str, currency: str) -> money_pb2.Money:
    """A price from a provider's decimal (or a computed float), to the cent."""
    try:
        value = Decimal(str(amount)).quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        value = Decimal(0)
    if not value.is_finite():
        value = Decimal(0)
    return to_proto(Money.of(currency.upper(), value))


# Value of one unit in EUR; approximate reference rates for planning and the sandbox.
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
    "HKD": Decimal("0.12"),
    "SGD": Decimal("0.69"),
    "THB": Decimal("0.026"),
    "TRY": Decimal("0.027"),
    "ZAR": Decimal("0.050"),
    "AED": Decimal("0.25"),
    "MAD": Decimal("0.092"),
    "KRW": Decimal("0.00069"),
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

    def knows(self, currency: str) -> bool:
        return currency in self.entries

    def rate(self, from_currency: str, to_currency: str) -> Rate | None:
        if from_currency == to_currency:
            return Rate(from_currency, to_currency, Decimal(1), "same currency")
        source = self.entries.get(from_currency)
        target = self.entries.get(to_currency)
        if source is None or target is None:
            return None
        origin = CONFIGURED_SOURCE if CONFIGURED_SOURCE in (source[1], target[1]) else source[1]
        return Rate(from_currency, to_currency, source[0] / target[0], origin)

    def convert(self, amount: Decimal, from_currency: str, to_currency: str) -> Decimal | None:
        """`amount` in `to_currency`, or None when either currency is not in the table."""
        rate = self.rate(from_currency, to_currency)
        return None if rate is None else amount * rate.rate


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


BUILT_IN_TABLE = rate_table()
