"""A running suite (auth, travel, the gateway) for the travel tests, cache namespaced per run.

The travel cache lives in a Redis that CI may share between runs, so each suite
gets its own key prefix; `live=` points the provider URLs and server keys at
the fake providers.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from tests.support.fake_providers.app import DUFFEL_KEY, GOOGLE_KEY, OWM_KEY, FakeProviders
from tests.support.suite import RunningSuite, make_settings


def live_overrides(fake: FakeProviders) -> dict[str, Any]:
    return {
        "duffel_access_token": DUFFEL_KEY,
        "google_maps_api_key": GOOGLE_KEY,
        "openweathermap_api_key": OWM_KEY,
        "duffel_api_url": fake.base_url,
        "google_places_api_url": fake.base_url,
        "google_geocoding_api_url": fake.base_url,
        "google_routes_api_url": fake.base_url,
        "openweathermap_api_url": fake.base_url,
        "provider_timeout_seconds": 2.0,
    }


def sandbox_overrides() -> dict[str, Any]:
    # Explicitly none, whatever the machine's environment says.
    return {
        "duffel_access_token": None,
        "google_maps_api_key": None,
        "openweathermap_api_key": None,
    }


@asynccontextmanager
async def travel_suite(
    database_dsn: str, redis_url: str, data_dir: Path, **overrides: Any
) -> AsyncIterator[RunningSuite]:
    settings = make_settings(
        database_dsn,
        redis_url,
        data_dir,
        travel_cache_prefix=f"test-travel-{uuid.uuid4().hex[:10]}",
        **overrides,
    )
    running = RunningSuite(settings)
    try:
        await running.start_service("auth")
        await running.start_service("travel")
        await running.start_gateway()
        yield running
    finally:
        await running.stop()
