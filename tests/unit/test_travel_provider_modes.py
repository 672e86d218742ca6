"""Each travel provider's mode from its server key and its real circuit breaker."""

from __future__ import annotations

from services.travel.provider_modes import provider_modes
from services.travel.providers.http import ProviderHttp
from tripsage_core.circuit_breaker import CircuitBreaker

KEYS = {"duffel": "duffel_test_key", "google_maps": None, "openweathermap": "weather-key"}


async def test_modes_follow_keys_and_breakers() -> None:
    duffel = ProviderHttp("duffel", "http://127.0.0.1:9")
    weather = ProviderHttp("openweathermap", "http://127.0.0.1:9")
    try:
        assert provider_modes(KEYS, [duffel, weather]) == {
            "duffel": "live",
            "google_maps": "sandbox",
            "openweathermap": "live",
        }
        weather.breaker.record_failure()
        for _ in range(duffel.breaker.failure_threshold):
            duffel.breaker.record_failure()
        modes = provider_modes(KEYS, [duffel, weather])
        assert modes["duffel"] == "circuit_open"
        assert modes["openweathermap"] == "failing"
        weather.breaker.record_success()
        assert provider_modes(KEYS, [duffel, weather])["openweathermap"] == "live"
    finally:
        await duffel.aclose()
        await weather.aclose()


async def test_a_breaker_past_its_reset_lets_a_trial_through_and_shows_failing() -> None:
    now = [0.0]
    breaker = CircuitBreaker("duffel", failure_threshold=1, reset_seconds=30, clock=lambda: now[0])
    client = ProviderHttp("duffel", "http://127.0.0.1:9", breaker=breaker)
    try:
        breaker.record_failure()
        assert provider_modes(KEYS, [client])["duffel"] == "circuit_open"
        now[0] = 31.0
        assert provider_modes(KEYS, [client])["duffel"] == "failing"
    finally:
        await client.aclose()
