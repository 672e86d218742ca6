"""The reply every List RPC sends: one page of converted rows and the next page token."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from google.protobuf.message import Message

from tripsage_core.keyset import Page


def page_reply[M: Message, R](
    cls: type[M], field: str, page: Page[R], convert: Callable[[R], Any]
) -> M:
    """A `cls` with the page's rows, converted, in `field` and its `next_page_token`."""
    return cls(**{field: [convert(row) for row in page.rows]}, next_page_token=page.next_token)
