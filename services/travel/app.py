"""Composition root of the travel service.

Its RPCs arrive with the travel issue; until then the generated base class
answers UNIMPLEMENTED. It depends on Redis (its cache) only.
"""

from __future__ import annotations

from grpc import aio

from tripsage.travel.v1 import travel_service_pb2, travel_service_pb2_grpc
from tripsage_core.config import Settings
from tripsage_core.grpc_kit.server import ServiceDefinition
from tripsage_core.runtime import ServiceRuntime

SERVICE_NAME = travel_service_pb2.DESCRIPTOR.services_by_name["TravelService"].full_name


async def build(settings: Settings) -> ServiceDefinition:
    runtime = ServiceRuntime(settings, service="travel", needs_database=False)

    def register(server: aio.Server) -> None:
        travel_service_pb2_grpc.add_TravelServiceServicer_to_server(
            travel_service_pb2_grpc.TravelServiceServicer(),  # type: ignore[abstract]
            server,
        )

    return ServiceDefinition(
        name="travel",
        service_names=[SERVICE_NAME],
        register=register,
        readiness=runtime.ready,
        on_stop=runtime.close,
    )
