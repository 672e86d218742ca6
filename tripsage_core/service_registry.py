"""The suite's services, listed once.

The launcher, the CLI, the settings' default ports and addresses, API key scopes,
the gateway's upstreams and the tests all read this list, so adding a service is
one entry here (plus its package under `services/` and its proto).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from google.protobuf.descriptor import ServiceDescriptor


@dataclass(frozen=True)
class ServiceInfo:
    name: str
    default_port: int
    # The gRPC service it serves and the generated module that declares it.
    grpc_service: str
    proto_module: str

    @property
    def module(self) -> str:
        """What `python -m` runs."""
        return f"services.{self.name}"

    def descriptor(self) -> ServiceDescriptor:
        generated = importlib.import_module(self.proto_module)
        found: ServiceDescriptor = generated.DESCRIPTOR.services_by_name[
            self.grpc_service.rsplit(".", 1)[-1]
        ]
        return found


SERVICES: tuple[ServiceInfo, ...] = (
    ServiceInfo("auth", 50051, "tripsage.auth.v1.AuthService", "tripsage.auth.v1.auth_service_pb2"),
    ServiceInfo(
        "trips", 50052, "tripsage.trips.v1.TripService", "tripsage.trips.v1.trip_service_pb2"
    ),
    ServiceInfo(
        "travel",
        50053,
        "tripsage.travel.v1.TravelService",
        "tripsage.travel.v1.travel_service_pb2",
    ),
    ServiceInfo(
        "assistant",
        50054,
        "tripsage.assistant.v1.AssistantService",
        "tripsage.assistant.v1.assistant_service_pb2",
    ),
)
SERVICE_NAMES: tuple[str, ...] = tuple(service.name for service in SERVICES)
DEFAULT_PORTS: dict[str, int] = {service.name: service.default_port for service in SERVICES}
