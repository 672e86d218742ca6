"""The providers a user may keep their own key for (BYOK). Other services fetch a
user's key with grpc_kit.auth_calls.user_provider_key."""

from __future__ import annotations

from tripsage.auth.v1 import auth_service_pb2 as auth_pb

PROVIDER_SERVICES = ("openai", "duffel", "google_maps", "openweathermap", "mem0")


def provider_to_proto(service: str) -> auth_pb.ProviderService.ValueType:
    """The enum value of a provider: "google_maps" -> PROVIDER_SERVICE_GOOGLE_MAPS."""
    if service not in PROVIDER_SERVICES:
        raise ValueError(f"unknown provider {service!r}; one of {', '.join(PROVIDER_SERVICES)}")
    return auth_pb.ProviderService.Value(f"PROVIDER_SERVICE_{service.upper()}")
