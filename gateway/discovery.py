"""The gRPC services the gateway serves: the suite's service registry, resolved to
descriptors and addresses."""

from __future__ import annotations

from google.protobuf.descriptor import ServiceDescriptor

from tripsage_core.config import Settings
from tripsage_core.service_registry import SERVICES


def discover_services() -> list[ServiceDescriptor]:
    """Every service of the suite, by full name."""
    return sorted((service.descriptor() for service in SERVICES), key=lambda d: d.full_name)


def upstream_addresses(settings: Settings) -> dict[str, str]:
    """gRPC service full name -> the address the settings give for it."""
    return {service.grpc_service: settings.service_addr(service.name) for service in SERVICES}


def short_service_name(full_name: str) -> str:
    """``tripsage.auth.v1.AuthService`` -> ``auth`` (the package's service segment)."""
    parts = full_name.split(".")
    package = [part for part in parts[:-1] if not _is_version(part)]
    if len(package) >= 2:
        return package[-1]
    if package:
        return package[0]
    return parts[-1]


def _is_version(name: str) -> bool:
    return len(name) >= 2 and name[0] == "v" and name[1].isdigit()
