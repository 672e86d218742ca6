"""Composition root of the travel service: the one place real adapters are wired.

Redis is the search cache only: without it (unset, or down) searches still work,
uncached, and the service stays SERVING; the outage is logged. Provider keys come
per request from the caller's BYOK keys, else the server's settings, else the
built-in sandbox answers.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from redis.asyncio import Redis

from services.travel.cache import SearchCache, cache_namespace
from services.travel.cache_stats import STATS_INTERVAL_SECONDS, publish_forever, publish_stats
from services.travel.provider_modes import provider_modes
from services.travel.providers.duffel import DuffelProvider
from services.travel.providers.google_maps import GoogleMapsProvider
from services.travel.providers.http import ProviderHttp
from services.travel.providers.openweathermap import OpenWeatherMapProvider
from services.travel.reference import airports, find_city
from services.travel.rpc_policy import POLICIES
from services.travel.sandbox.flights import SandboxFlights
from services.travel.sandbox.maps import SandboxMaps
from services.travel.sandbox.stays import SandboxStays
from services.travel.sandbox.weather import SandboxWeather
from services.travel.servicer import TravelServicer
from services.travel.travel import Providers, Travel
from tripsage.travel.v1 import travel_service_pb2_grpc
from tripsage_core import page_tokens
from tripsage_core.cache import LocalCache, redis_from_settings
from tripsage_core.cache import ping as redis_ping
from tripsage_core.circuit_breaker import CircuitBreaker
from tripsage_core.config import Settings
from tripsage_core.grpc_kit.auth_calls import AuthServiceKeys
from tripsage_core.grpc_kit.caller import CallerResolver, caller_resolver
from tripsage_core.grpc_kit.server import ServiceDefinition
from tripsage_core.grpc_kit.service_app import service_definition
from tripsage_core.provider_accounts import (
    DUFFEL,
    GOOGLE_MAPS,
    OPENWEATHERMAP,
    KeyChooser,
    UserKeySource,
)
from tripsage_core.runtime import timed_ms

logger = logging.getLogger("tripsage.travel")


def live_providers(settings: Settings) -> tuple[Providers, list[ProviderHttp]]:
    timeout = settings.provider_timeout_seconds
    duffel_http = ProviderHttp("duffel", settings.duffel_api_url, timeout=timeout)
    google_breaker = CircuitBreaker("google_maps")
    places, geocoding, routes = (
        ProviderHttp("google_maps", url, timeout=timeout, breaker=google_breaker)
        for url in (
            settings.google_places_api_url,
            settings.google_geocoding_api_url,
            settings.google_routes_api_url,
        )
    )
    weather_http = ProviderHttp("openweathermap", settings.openweathermap_api_url, timeout=timeout)
    duffel = DuffelProvider(duffel_http)
    providers = Providers(
        flights=duffel,
        stays=duffel,
        maps=GoogleMapsProvider(places, geocoding, routes),
        weather=OpenWeatherMapProvider(weather_http),
    )
    return providers, [duffel_http, places, geocoding, routes, weather_http]


def sandbox_providers() -> Providers:
    return Providers(
        flights=SandboxFlights(),
        stays=SandboxStays(),
        maps=SandboxMaps(),
        weather=SandboxWeather(),
    )


def server_keys(settings: Settings) -> dict[str, str | None]:
    def plain(value: object) -> str | None:
        secret = getattr(value, "get_secret_value", None)
        return secret() if secret else None

    return {
        DUFFEL: plain(settings.duffel_access_token),
        GOOGLE_MAPS: plain(settings.google_maps_api_key),
        OPENWEATHERMAP: plain(settings.openweathermap_api_key),
    }


def build_travel(
    settings: Settings,
    redis: Redis | None,
    *,
    user_keys: UserKeySource | None = None,
    live: Providers | None = None,
) -> tuple[Travel, list[ProviderHttp]]:
    clients: list[ProviderHttp] = []
    if live is None:
        live, clients = live_providers(settings)
    travel = Travel(
        keys=KeyChooser(server_keys(settings), user_keys or AuthServiceKeys(settings)),
        cache=SearchCache(
            redis,
            namespace=cache_namespace(settings),
            local=LocalCache(
                settings.travel_local_cache_seconds, settings.travel_local_cache_entries
            ),
        ),
        live=live,
        sandbox=sandbox_providers(),
    )
    return travel, clients


async def build(settings: Settings) -> ServiceDefinition:
    redis = redis_from_settings(settings)
    if redis is None:
        logger.warning("REDIS_URL is not set: travel searches run uncached")
    return compose(settings, redis, travel_callers(settings, redis))


def travel_callers(settings: Settings, redis: Redis | None) -> CallerResolver:
    # Searches expose no other user's data, so they go on through a Redis outage.
    return caller_resolver(settings, redis_client=redis, admit_when_revocations_unreadable=True)


def compose(
    settings: Settings,
    redis: Redis | None,
    callers: CallerResolver,
    *,
    user_keys: UserKeySource | None = None,
) -> ServiceDefinition:
    """The service around a given cache client, caller check and BYOK source."""
    travel, clients = build_travel(settings, redis, user_keys=user_keys)
    keys = server_keys(settings)
    page_tokens.SIGNER.use_settings(settings)  # travel has no ServiceRuntime to do it
    servicer = TravelServicer(travel)
    # Loading reference data takes a few seconds; do it off the event loop at start.
    warm_up = asyncio.get_running_loop().run_in_executor(None, _load_reference_data)

    async def ready() -> bool:
        if redis is not None:
            travel.cache.available = await redis_ping(redis)
        # Searches work without Redis (uncached), so its outage never takes us out.
        return warm_up.done()

    publisher = (
        asyncio.get_running_loop().create_task(
            publish_forever(redis, travel.cache.namespace, STATS_INTERVAL_SECONDS)
        )
        if redis is not None
        else None
    )

    async def describe() -> dict[str, Any]:
        if redis is None:
            return {}
        return {"redisLatencyMs": await timed_ms(lambda: redis_ping(redis))}

    async def stop() -> None:
        for client in clients:
            await client.aclose()
        if redis is not None:
            if publisher is not None:
                publisher.cancel()
            await publish_stats(redis, travel.cache.namespace)  # what the last interval saw
            await redis.aclose()

    return service_definition(
        "travel",
        servicer,
        travel_service_pb2_grpc.add_TravelServiceServicer_to_server,
        POLICIES,
        callers,
        readiness=ready,
        on_stop=stop,
        components=lambda: {"redis": travel.cache.available} if redis is not None else {},
        metrics_port=settings.metrics_port("travel"),
        describe=describe,
        modes=lambda: provider_modes(keys, clients),
    )


def _load_reference_data() -> None:
    airports()
    find_city("Lisbon")
