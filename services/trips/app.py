"""Composition root of the trips service."""

from __future__ import annotations

from pathlib import Path

import grpc

from services.trips.change_feed import TripChangeFeed
from services.trips.collaboration import Collaboration
from services.trips.itinerary import Itinerary
from services.trips.rpc_policy import POLICIES
from services.trips.servicer import TripServicer
from services.trips.store import TripStore
from services.trips.trips import Trips
from services.trips.watching import TripWatching
from tripsage.trips.v1 import trip_service_pb2_grpc
from tripsage_core.config import Settings
from tripsage_core.errors import Unavailable
from tripsage_core.grpc_kit.auth_calls import lookup_users_by_id
from tripsage_core.grpc_kit.caller import caller_resolver
from tripsage_core.grpc_kit.server import ServiceDefinition
from tripsage_core.grpc_kit.service_app import service_definition
from tripsage_core.idempotency import IdempotencyLedger
from tripsage_core.money import rate_table
from tripsage_core.runtime import ServiceRuntime
from tripsage_core.users import UserSummary

MIGRATIONS = Path(__file__).parent / "migrations"
SCHEMA = "tripsage_trips"


class AuthUserDirectory:
    """Collaboration's UserDirectory: the auth service's LookupUsers, as this service."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def by_id(self, user_ids: list[str]) -> dict[str, UserSummary]:
        try:
            return await lookup_users_by_id(self.settings, user_ids)
        except grpc.aio.AioRpcError as error:
            raise _auth_unavailable(error) from None


def _auth_unavailable(error: grpc.aio.AioRpcError) -> Unavailable:
    # Who has an account is the auth service's to say; without it, retrying later is right.
    return Unavailable(
        f"cannot look people up right now ({error.code().name}); retry shortly",
        reason="AUTH_UNAVAILABLE",
        retry_after_seconds=2,
    )


async def build(settings: Settings, *, feed: TripChangeFeed | None = None) -> ServiceDefinition:
    """The trips service; `feed` lets a test hold the change feed (and count its watches)."""
    runtime = ServiceRuntime(settings, service="trips", migrations_dir=MIGRATIONS)
    store = TripStore(runtime.db)
    ledger = IdempotencyLedger(SCHEMA)
    feed = feed or change_feed(settings)
    callers = caller_resolver(settings)
    servicer = TripServicer(
        Trips(store, ledger),
        Collaboration(store, AuthUserDirectory(settings)),
        Itinerary(store, ledger, rate_table(settings.trips_currency_rates)),
        TripWatching(store, feed),
        callers,
    )
    definition = service_definition(
        "trips",
        servicer,
        trip_service_pb2_grpc.add_TripServiceServicer_to_server,
        POLICIES,
        callers,
        runtime=runtime,
        metrics_port=settings.metrics_port("trips"),
    )

    async def stop() -> None:
        await feed.close()
        await runtime.close()

    definition.on_stop = stop
    return definition


def change_feed(settings: Settings) -> TripChangeFeed:
    """The process's one listening connection for WatchTrip (services/trips/change_feed.py)."""
    assert settings.postgres_url is not None, "trips needs POSTGRES_URL"
    return TripChangeFeed(settings.postgres_listen_url, max_watchers=settings.trips_max_watchers)
