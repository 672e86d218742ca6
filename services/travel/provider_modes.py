"""Each travel provider's mode for operators (the detailed health's `modes`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from services.travel.providers.http import ProviderHttp

LIVE = "live"
SANDBOX = "sandbox"
FAILING = "failing"
CIRCUIT_OPEN = "circuit_open"


def provider_modes(
    server_keys: Mapping[str, str | None], clients: Sequence[ProviderHttp]
) -> dict[str, str]:
    """provider -> live (a server key), sandbox (none: canned answers), failing (recent
    errors, or the breaker letting a trial call through) or circuit_open (failing fast).
    Users' own keys (BYOK) reach the live provider whatever the mode here."""
    modes = {name: LIVE if key else SANDBOX for name, key in server_keys.items()}
    for client in clients:
        state = client.breaker.state
        if state == "open":
            modes[client.provider] = CIRCUIT_OPEN
        elif state == "half_open" or client.breaker.failures:
            modes[client.provider] = FAILING
    return modes
