"""Domain records from database rows, column by field name: the one row mapper.

Every store's records are dataclasses whose fields are named after the columns they
come from; `record_from_row` copies them, so a store writes out only the fields that
need more than a copy (a renamed column, a nested value, a fallback).
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import typing
import uuid
from typing import TYPE_CHECKING, Any

import asyncpg

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

from tripsage_core.money import Money


@functools.cache
def _enum_fields(cls: type[DataclassInstance]) -> dict[str, type[enum.Enum]]:
    hints = typing.get_type_hints(cls)
    found: dict[str, type[enum.Enum]] = {}
    for f in dataclasses.fields(cls):
        # `Role` or `Role | None`: the enum is the one member of the union that is one.
        for candidate in typing.get_args(hints[f.name]) or (hints[f.name],):
            if isinstance(candidate, type) and issubclass(candidate, enum.Enum):
                found[f.name] = candidate
    return found


def _has_default(f: dataclasses.Field[Any]) -> bool:
    return f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING


def record_from_row[T: DataclassInstance](cls: type[T], row: asyncpg.Record, **given: Any) -> T:
    """`cls` with each field not `given` read from the column of its name: UUIDs become
    strings (ids are strings in the domain) and values of enum fields their members;
    NULL stays None. A field with a default the query does not select keeps its default;
    any other missing column is a KeyError, as a hand-written mapper's is."""
    enums = _enum_fields(cls)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name in given:
            continue
        if f.name not in row and _has_default(f):
            continue  # filled by someone else (a field the query does not select)
        value = row[f.name]
        if isinstance(value, uuid.UUID):
            value = str(value)
        elif value is not None and f.name in enums:
            value = enums[f.name](value)
        values[f.name] = value
    return cls(**values, **given)


def money_from_row(row: asyncpg.Record, prefix: str) -> Money | None:
    """The amount kept in `<prefix>_currency`, `_units` and `_nanos`; None without a currency."""
    currency = row[f"{prefix}_currency"]
    if not currency:
        return None
    return Money(currency, row[f"{prefix}_units"] or 0, row[f"{prefix}_nanos"] or 0)


def money_columns(money: Money | None) -> tuple[str | None, int | None, int | None]:
    """The `_currency`, `_units` and `_nanos` column values of an amount (NULLs for none)."""
    if money is None:
        return None, None, None
    return money.currency, money.units, money.nanos


def after_key(
    args: list[Any], after: tuple[Any, str], sort: str = "created_at", cast: str = ""
) -> str:
    """The keyset condition of a page ordered by (`sort`, id) descending: the rows past
    `after`, the last (sort value, id) of the page before. Binds both values in `args`."""
    args += [after[0], uuid.UUID(after[1])]
    return f"({sort}, id) < (${len(args) - 1}{cast}, ${len(args)})"


def page_query(
    select: str,
    conditions: list[str],
    args: list[Any],
    *,
    after: tuple[Any, str] | None,
    limit: int,
    sort: str = "created_at",
) -> str:
    """`select` narrowed to one page ordered by (`sort`, id) descending: the rows that meet
    every condition (our own fixed strings; values are bound in `args`) past `after`.
    Binds the keyset and the limit in `args`."""
    if after is not None:
        conditions = [*conditions, after_key(args, after, sort)]
    args.append(limit)
    return (
        f"{select} WHERE {' AND '.join(conditions)}"
        f" ORDER BY {sort} DESC, id DESC LIMIT ${len(args)}"
    )
