"""Amounts as google.type.Money, from the decimal strings providers send."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from google.type import money_pb2

NANOS = Decimal(1_000_000_000)


def money(amount: Decimal | float | str, currency: str) -> money_pb2.Money:
    try:
        value = Decimal(str(amount)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        value = Decimal(0)
    units = int(value)
    nanos = int((value - units) * NANOS)
    return money_pb2.Money(currency_code=currency.upper(), units=units, nanos=nanos)


def amount(value: money_pb2.Money) -> Decimal:
    return Decimal(value.units) + Decimal(value.nanos) / NANOS
