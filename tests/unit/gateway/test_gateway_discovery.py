"""Discovery of generated ``<root>.<svc>.v1.*_pb2`` modules."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from gateway.discovery import discover_services


@pytest.fixture
def fake_root(tmp_path: Path, echo_pb2: ModuleType) -> Iterator[str]:
    root = tmp_path / "gwdiscovery_root"
    layout = {
        "__init__.py": "",
        "echo/__init__.py": "",
        "echo/v1/__init__.py": "",
        "echo/v1/echo_service_pb2.py": "from gatewaytest.v1.echo_pb2 import DESCRIPTOR\n",
        "echo/v1/echo_service_pb2_grpc.py": "raise RuntimeError('not a _pb2 module')\n",
        "broken/__init__.py": "",
        "broken/v1/__init__.py": "",
        "broken/v1/broken_pb2.py": "raise ImportError('half-generated')\n",
        "empty/__init__.py": "",
        "notes.py": "",
    }
    for relative, text in layout.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    sys.path.insert(0, str(tmp_path))
    try:
        yield "gwdiscovery_root"
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m.startswith("gwdiscovery_root")]:
            del sys.modules[name]


def test_discovers_services_and_skips_what_does_not_import(fake_root: str) -> None:
    services = discover_services(fake_root)
    assert [service.full_name for service in services] == ["gatewaytest.v1.EchoService"]


def test_missing_root_package_finds_nothing() -> None:
    assert discover_services("no_such_package_for_gateway_tests") == []


def test_tripsage_services_are_found() -> None:
    names = {service.full_name for service in discover_services()}
    assert {"tripsage.auth.v1.AuthService", "tripsage.trips.v1.TripService"} <= names
