"""Composition root of the trips service."""

from __future__ import annotations

from pathlib import Path

from grpc import aio

from services.trips.servicer import TripServicer
from services.trips.store import TripStore
from services.trips.trips import Trips
from tripsage.trips.v1 import trip_service_pb2, trip_service_pb2_grpc
from tripsage_core.config import Settings
from tripsage_core.grpc_kit.caller import caller_resolver
from tripsage_core.grpc_kit.server import ServiceDefinition
from tripsage_core.runtime import ServiceRuntime

MIGRATIONS = Path(__file__).parent / "migrations"
SERVICE_NAME = trip_service_pb2.DESCRIPTOR.services_by_name["TripService"].full_name


async def build(settings: Settings) -> ServiceDefinition:
    runtime = ServiceRuntime(settings, service="trips", migrations_dir=MIGRATIONS)
    # The generated base answers UNIMPLEMENTED for RPCs not written yet; its stub
    # calls those abstract.
    servicer = TripServicer(  # type: ignore[abstract]
        Trips(TripStore(runtime.db)), caller_resolver(settings)
    )

    def register(server: aio.Server) -> None:
        trip_service_pb2_grpc.add_TripServiceServicer_to_server(servicer, server)

    return ServiceDefinition(
        name="trips",
        service_names=[SERVICE_NAME],
        register=register,
        readiness=runtime.ready,
        on_stop=runtime.close,
    )
