"""Local HTTP servers that answer like Duffel, Google Maps Platform and OpenWeatherMap.

One app serves all three (each under its own paths, as the real hosts do), so a
test points every *_API_URL setting at one base URL. It checks what the real
APIs require (auth headers, Duffel-Version, field masks, body shapes), answers
realistic payloads, records every request, and can be scripted to fail: a
status (5xx, 429 with Retry-After, ...) or a delay for the next calls to a path.
"""

from tests.support.fake_providers.app import (
    DUFFEL_KEY,
    GOOGLE_KEY,
    OWM_KEY,
    REJECTED_KEY,
    FakeProviders,
    Recorded,
)
from tests.support.fake_providers.server import serve_fake_providers

__all__ = [
    "DUFFEL_KEY",
    "GOOGLE_KEY",
    "OWM_KEY",
    "REJECTED_KEY",
    "FakeProviders",
    "Recorded",
    "serve_fake_providers",
]
