"""TRUSTED_PROXIES: IP addresses and networks only, never "*"."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tripsage_core.config import Settings


def test_trusted_proxies_read_as_a_comma_separated_list() -> None:
    settings = Settings(_env_file=None, trusted_proxies="10.0.0.0/8, 192.0.2.7,::1")  # type: ignore[arg-type]
    assert settings.trusted_proxies == ["10.0.0.0/8", "192.0.2.7", "::1"]
    assert Settings(_env_file=None).trusted_proxies == []  # type: ignore[call-arg]


@pytest.mark.parametrize("value", ["*", "localhost", "10.0.0.0/99"])
def test_anything_but_addresses_and_networks_is_refused(value: str) -> None:
    with pytest.raises(ValidationError, match="TRUSTED_PROXIES"):
        Settings(_env_file=None, trusted_proxies=value)  # type: ignore[arg-type]
