"""Is a provider key plausible, and does the provider accept it?

The format check is local. The live check makes the cheapest authenticated
call each provider offers, at the same base URLs the travel and assistant
adapters use (so tests point both at the same local servers). When the
provider cannot be reached the answer is "format valid, not verified", never
a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple


class KeyStatus(StrEnum):
    UNVERIFIED = "unverified"
    VALID = "valid"
    INVALID = "invalid"
    CHECK_FAILED = "check_failed"


FORMATS: dict[str, tuple[re.Pattern[str], str]] = {
    "openai": (re.compile(r"^sk-[A-Za-z0-9_-]{20,200}$"), "OpenAI keys start with 'sk-'"),
    "duffel": (
        re.compile(r"^duffel_(test|live)_[A-Za-z0-9_-]{20,200}$"),
        "Duffel access tokens start with 'duffel_test_' or 'duffel_live_'",
    ),
    "google_maps": (
        re.compile(r"^AIza[0-9A-Za-z_-]{35}$"),
        "Google Maps keys are 39 characters starting with 'AIza'",
    ),
    "openweathermap": (
        re.compile(r"^[0-9a-f]{32}$"),
        "OpenWeatherMap keys are 32 lower-case hexadecimal characters",
    ),
    "mem0": (re.compile(r"^m0-[A-Za-z0-9_-]{20,200}$"), "Mem0 keys start with 'm0-'"),
}

NOT_VERIFIED = "format valid, not verified: the provider could not be reached"


def format_problem(service: str, key: str) -> str | None:
    pattern, hint = FORMATS[service]
    return None if pattern.match(key) else f"does not look like a {service} key: {hint}"


class CheckResult(NamedTuple):
    """What a check found, and a message the key's owner can act on."""

    status: KeyStatus
    message: str


@dataclass(frozen=True)
class ProviderEndpoints:
    openai: str = "https://api.openai.com/v1"
    duffel: str = "https://api.duffel.com"
    google_maps: str = "https://maps.googleapis.com"
    openweathermap: str = "https://api.openweathermap.org"
    mem0: str = "https://api.mem0.ai"


class HttpProviderChecker:
    """One cheap authenticated GET per provider; 2xx valid, 401/403 invalid, else unknown."""

    def __init__(self, endpoints: ProviderEndpoints, *, timeout: float = 5.0) -> None:
        self.endpoints = endpoints
        self.timeout = timeout

    def _request(self, service: str, key: str) -> tuple[str, dict[str, str], dict[str, str]]:
        e = self.endpoints
        if service == "openai":
            return f"{e.openai.rstrip('/')}/models", {"Authorization": f"Bearer {key}"}, {}
        if service == "duffel":
            return (
                f"{e.duffel.rstrip('/')}/air/airlines",
                {"Authorization": f"Bearer {key}", "Duffel-Version": "v2"},
                {"limit": "1"},
            )
        if service == "google_maps":
            return (
                f"{e.google_maps.rstrip('/')}/maps/api/geocode/json",
                {},
                {"address": "London", "key": key},
            )
        if service == "openweathermap":
            return (
                f"{e.openweathermap.rstrip('/')}/data/2.5/weather",
                {},
                {"q": "London", "appid": key},
            )
        return f"{e.mem0.rstrip('/')}/v1/memories/", {"Authorization": f"Token {key}"}, {}

    async def check(self, service: str, key: str) -> CheckResult:
        url, headers, params = self._request(service, key)
        import httpx  # on the first call: 18 MB an auth process without it never spends

        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                response = await client.get(url, headers=headers, params=params)
        except httpx.HTTPError:
            return CheckResult(KeyStatus.UNVERIFIED, NOT_VERIFIED)
        if response.status_code in (401, 403):
            return CheckResult(KeyStatus.INVALID, f"{service} refused the key")
        # Geocoding answers 200 with status REQUEST_DENIED for a bad key.
        if (
            service == "google_maps"
            and response.is_success
            and response.json().get("status") == "REQUEST_DENIED"
        ):
            return CheckResult(KeyStatus.INVALID, "google_maps refused the key")
        if response.is_success:
            return CheckResult(KeyStatus.VALID, f"{service} accepted the key")
        return CheckResult(
            KeyStatus.CHECK_FAILED, f"{service} answered {response.status_code}; try again later"
        )
