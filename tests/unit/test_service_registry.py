"""The service registry is the whole suite: every generated service is in it, and every
entry resolves to its descriptor, its package and a distinct port."""

from __future__ import annotations

import importlib
from pathlib import Path

from gateway.discovery import discover_services, upstream_addresses
from tripsage_core.config import Settings
from tripsage_core.service_registry import DEFAULT_PORTS, SERVICES

REPO = Path(__file__).resolve().parents[2]


def test_every_generated_service_is_registered() -> None:
    generated = {
        f"tripsage.{path.parent.parent.name}.v1.{path.stem}"
        for path in (REPO / "tripsage").glob("*/v1/*_service_pb2.py")
    }
    assert generated == {service.proto_module for service in SERVICES}


def test_each_entry_resolves_to_its_descriptor_package_and_port() -> None:
    for service in SERVICES:
        assert service.descriptor().full_name == service.grpc_service
        assert hasattr(importlib.import_module(f"{service.module}.app"), "build")
        assert hasattr(importlib.import_module(f"{service.module}.rpc_policy"), "POLICIES")
    assert len(set(DEFAULT_PORTS.values())) == len(SERVICES)


def test_the_gateway_serves_every_registered_service_at_its_configured_address() -> None:
    settings = Settings(trips_service_addr="trips.internal:7000")
    assert [d.full_name for d in discover_services()] == sorted(s.grpc_service for s in SERVICES)
    addresses = upstream_addresses(settings)
    assert addresses["tripsage.trips.v1.TripService"] == "trips.internal:7000"
    assert addresses["tripsage.auth.v1.AuthService"] == f"localhost:{DEFAULT_PORTS['auth']}"
