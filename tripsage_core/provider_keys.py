"""A user's own provider keys (BYOK), as other services fetch them from auth.

Only TripSage services can do this: the call carries the service credential,
and auth refuses everyone else. The key is returned in plain text for the
duration of one call; never log or store it.
"""

from __future__ import annotations

from tripsage.auth.v1 import auth_service_pb2 as auth_pb
from tripsage.auth.v1 import auth_service_pb2_grpc as auth_grpc
from tripsage_core.config import Settings
from tripsage_core.grpc_kit.client import shared_service_channel

PROVIDER_SERVICES = ("openai", "duffel", "google_maps", "openweathermap", "mem0")


def provider_to_proto(service: str) -> auth_pb.ProviderService.ValueType:
    """The enum value of a provider: "google_maps" -> PROVIDER_SERVICE_GOOGLE_MAPS."""
    if service not in PROVIDER_SERVICES:
        raise ValueError(f"unknown provider {service!r}; one of {', '.join(PROVIDER_SERVICES)}")
    return auth_pb.ProviderService.Value(f"PROVIDER_SERVICE_{service.upper()}")


async def user_provider_key(settings: Settings, user_id: str, service: str) -> str | None:
    """The user's own key for `service` ("duffel", "openai", ...), or None if they stored none."""
    channel = shared_service_channel(settings.service_addr("auth"), settings)
    reply = await auth_grpc.AuthServiceStub(channel).ResolveProviderKey(
        auth_pb.ResolveProviderKeyRequest(user_id=user_id, service=provider_to_proto(service)),
        timeout=10,
    )
    return reply.api_key if reply.found else None
