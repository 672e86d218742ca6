"""keyset_page: the one walk every list RPC pages with."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from tripsage_core import page_tokens
from tripsage_core.errors import InvalidArgument
from tripsage_core.keyset import BY_CREATION, Page, keyset_page
from tripsage_core.page_budget import wire_size

START = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Row:
    id: str
    created_at: datetime
    body: str = ""


ROWS = [Row(str(uuid.UUID(int=n)), START + timedelta(minutes=n)) for n in range(7)]


@pytest.fixture(autouse=True)
def signed() -> Iterator[None]:
    saved = list(page_tokens.SIGNER._keys)
    page_tokens.use_secret("keyset-test-" + "k" * 32)
    yield
    page_tokens.SIGNER._keys = saved


async def _after(limit: int, after: tuple[datetime, str] | None, rows: list[Row]) -> list[Row]:
    return [r for r in rows if after is None or (r.created_at, r.id) > after][:limit]


def page(token: str, *, size: int = 3, rows: list[Row] = ROWS, **options: object) -> Page[Row]:
    return asyncio.run(
        keyset_page(
            lambda limit, after: _after(limit, after, rows),
            size=size, token=token, fingerprint="rows",
            position_of=BY_CREATION.position_of, bound_of=BY_CREATION.bound_of,
            **options,  # type: ignore[arg-type]
        )
    )  # fmt: skip


def test_pages_walk_every_row_once_and_the_last_has_no_token() -> None:
    seen, token = [], ""
    for _ in range(3):
        current = page(token)
        seen += current.rows
        token = current.next_token
    assert seen == ROWS
    assert token == ""


def test_an_exact_last_page_has_no_token() -> None:
    assert page("", size=7).next_token == ""
    assert page("", size=6).next_token != ""


def test_byte_budget_cuts_a_page_and_the_next_one_resumes() -> None:
    big = [Row(r.id, r.created_at, "x" * 1000) for r in ROWS]
    first = page("", size=5, rows=big, byte_budget=2 * wire_size(big[0]))
    assert first.rows == big[:2]
    assert first.next_token
    assert page(first.next_token, size=5, rows=big).rows == big[2:7]


def test_tokens_of_other_filters_or_unreadable_positions_are_refused() -> None:
    token = page("").next_token
    with pytest.raises(InvalidArgument):
        asyncio.run(
            keyset_page(
                lambda limit, after: _after(limit, after, ROWS),
                size=3, token=token, fingerprint="other",
                position_of=BY_CREATION.position_of, bound_of=BY_CREATION.bound_of,
            )
        )  # fmt: skip
    unreadable = page_tokens.encode_token({"t": "yesterday", "i": "x"}, "rows")
    with pytest.raises(InvalidArgument) as refused:
        page(unreadable)
    assert refused.value.violations[0].field == "page_token"
    with pytest.raises(InvalidArgument):
        page("", size=-1)
