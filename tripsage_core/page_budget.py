"""Pages cut by bytes as well as rows, so that no page of any list exceeds a gRPC message.

A list RPC fetches page_size + 1 rows; `fitting` says how many of them to send so
that the page's estimated encoded size stays within PAGE_BYTES (a quarter of
gRPC's default 4 MiB receive limit, the smallest limit between our services).
The estimate bounds the protobuf encoding from above: each value is counted with
the most a tag, a length and a google.protobuf.Value wrapper can add. At least one
row is always sent, so a list always moves on; field size limits keep one row far
below the budget.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import date, datetime

PAGE_BYTES = 1024 * 1024
_WRAPPER = 10  # tag + length varint + Value wrapper, rounded up


def wire_size(value: object) -> int:
    """An upper bound of `value`'s size as a protobuf field (or Struct value)."""
    if value is None or isinstance(value, bool):
        return _WRAPPER
    if isinstance(value, int | float):
        return _WRAPPER + 8
    if isinstance(value, str):
        return _WRAPPER + len(value.encode())
    if isinstance(value, bytes | bytearray):
        return _WRAPPER + len(value)
    if isinstance(value, date | datetime):
        return _WRAPPER + 12
    if isinstance(value, Mapping):
        return _WRAPPER + sum(_WRAPPER + wire_size(k) + wire_size(v) for k, v in value.items())
    if isinstance(value, Sequence | set | frozenset):
        return _WRAPPER + sum(wire_size(v) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = dataclasses.fields(value)
        return _WRAPPER + sum(wire_size(getattr(value, f.name)) for f in fields)
    return _WRAPPER + len(str(value).encode())


def fitting(rows: Sequence[object], budget: int = PAGE_BYTES) -> int:
    """How many leading `rows` fit in `budget` bytes (at least one, if there are any)."""
    used = 0
    for count, row in enumerate(rows):
        used += wire_size(row)
        if used > budget and count > 0:
            return count
    return len(rows)
