"""Finding the gRPC services the gateway can serve.

Every ``tripsage.<svc>.v1.*_pb2`` module that exists is imported, so a newly
generated service is picked up without touching the gateway.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import Iterable
from types import ModuleType

from google.protobuf.descriptor import ServiceDescriptor

logger = logging.getLogger("tripsage.gateway")


def iter_generated_modules(root_package: str = "tripsage") -> Iterable[ModuleType]:
    """Import and yield every ``<root>.<svc>.v<N>.*_pb2`` module present."""
    try:
        root = importlib.import_module(root_package)
    except ImportError:
        logger.warning("package %s not importable; no gRPC services found", root_package)
        return
    for service_info in pkgutil.iter_modules(getattr(root, "__path__", [])):
        if not service_info.ispkg:
            continue
        service_package = f"{root_package}.{service_info.name}"
        try:
            service_module = importlib.import_module(service_package)
        except Exception:  # a half-written package must not stop the gateway
            logger.warning("skipping %s: import failed", service_package, exc_info=True)
            continue
        for version_info in pkgutil.iter_modules(getattr(service_module, "__path__", [])):
            if not (version_info.ispkg and _is_version(version_info.name)):
                continue
            version_package = f"{service_package}.{version_info.name}"
            try:
                version_module = importlib.import_module(version_package)
            except Exception:
                logger.warning("skipping %s: import failed", version_package, exc_info=True)
                continue
            for module_info in pkgutil.iter_modules(getattr(version_module, "__path__", [])):
                if not module_info.name.endswith("_pb2"):
                    continue
                module_name = f"{version_package}.{module_info.name}"
                try:
                    yield importlib.import_module(module_name)
                except Exception:
                    logger.warning("skipping %s: import failed", module_name, exc_info=True)


def discover_services(root_package: str = "tripsage") -> list[ServiceDescriptor]:
    """All service descriptors declared in the generated modules, by name."""
    found: dict[str, ServiceDescriptor] = {}
    for module in iter_generated_modules(root_package):
        file_descriptor = getattr(module, "DESCRIPTOR", None)
        if file_descriptor is None:
            continue
        for service in file_descriptor.services_by_name.values():
            found[service.full_name] = service
    return [found[name] for name in sorted(found)]


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
