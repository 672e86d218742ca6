"""One keyset page for every list RPC: fetch one row more than the page, cut, and hand
out the next token, signed and bound to the filters (tripsage_core.page_tokens).

A list says how a row becomes a token position (`position_of`) and how a position
becomes the bound its store continues after (`bound_of`); `keyset_page` does the
rest, the same way everywhere. A position that does not read back is refused as
INVALID_ARGUMENT on `page_token`, like any token that is not ours.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from tripsage_core.errors import InvalidArgument
from tripsage_core.page_budget import fitting
from tripsage_core.page_tokens import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    NOT_OURS,
    decode_token,
    encode_token,
    page_limit,
)

type Position = dict[str, Any]


@dataclass(frozen=True)
class Page[R]:
    rows: list[R]
    next_token: str


async def keyset_page[R, B](
    fetch: Callable[[int, B | None], Awaitable[Sequence[R]]],
    *,
    size: int,
    token: str,
    fingerprint: str,
    position_of: Callable[[R], Position],
    bound_of: Callable[[Position], B],
    default: int = DEFAULT_PAGE_SIZE,
    maximum: int = MAX_PAGE_SIZE,
    byte_budget: int | None = None,
) -> Page[R]:
    """`fetch(limit, after)` returns up to `limit` rows after the bound (None: from the
    start). With `byte_budget` a page is also cut by its estimated encoded size
    (page_budget.fitting), so that it always fits in one message."""
    limit = page_limit(size, default=default, maximum=maximum)
    after = _bound(token, fingerprint, bound_of) if token else None
    rows = list(await fetch(limit + 1, after))
    if byte_budget is not None:
        limit = fitting(rows[:limit], byte_budget)
    if len(rows) <= limit:
        return Page(rows, "")
    rows = rows[:limit]
    return Page(rows, encode_token(position_of(rows[-1]), fingerprint))


def _bound[B](token: str, fingerprint: str, bound_of: Callable[[Position], B]) -> B:
    position = decode_token(token, fingerprint)
    try:
        return bound_of(position)
    except (KeyError, TypeError, ValueError, AttributeError):
        raise InvalidArgument.for_field("page_token", NOT_OURS) from None


class Created(Protocol):
    @property
    def created_at(self) -> datetime: ...
    @property
    def id(self) -> str: ...


@dataclass(frozen=True)
class ByCreation:
    """The usual order, by (created_at, id); `time` and `ident` name the token's fields."""

    time: str = "t"
    ident: str = "i"

    def position_of(self, row: Created) -> Position:
        return {self.time: row.created_at.isoformat(), self.ident: row.id}

    def bound_of(self, position: Position) -> tuple[datetime, str]:
        created_at = datetime.fromisoformat(position[self.time])
        return created_at, str(uuid.UUID(position[self.ident]))


BY_CREATION = ByCreation()
