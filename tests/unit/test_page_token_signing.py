"""Page tokens are signed under SECRET_KEY; a rotation keeps tokens in flight valid."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tripsage_core import page_tokens
from tripsage_core.errors import InvalidArgument

OLD, NEW = "old-secret-" + "x" * 32, "new-secret-" + "y" * 32


@pytest.fixture(autouse=True)
def restore_keys() -> Iterator[None]:
    saved = list(page_tokens._keys)
    yield
    page_tokens._keys[:] = saved


def test_a_token_survives_a_rotation_and_nothing_else_verifies_it() -> None:
    page_tokens.use_secret(OLD)
    token = page_tokens.encode_token({"i": "abc"}, "list")
    page_tokens.use_secret(NEW, OLD)
    assert page_tokens.decode_token(token, "list") == {"i": "abc"}
    fresh = page_tokens.encode_token({"i": "abc"}, "list")
    assert fresh != token  # new tokens are signed with the new secret
    page_tokens.use_secret(NEW)
    assert page_tokens.decode_token(fresh, "list") == {"i": "abc"}
    for refused in (token, "", ".", "abc", fresh + "x", fresh.replace(".", "")):
        with pytest.raises(InvalidArgument) as caught:
            page_tokens.decode_token(refused, "list")
        assert caught.value.violations[0].field == "page_token"
