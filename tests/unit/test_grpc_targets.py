"""<NAME>_SERVICE_ADDR values as gRPC channel targets (round robin over replicas)."""

from __future__ import annotations

import pytest

from tripsage_core.config import load_settings
from tripsage_core.grpc_kit.targets import grpc_target


@pytest.mark.parametrize(
    ("address", "target"),
    [
        ("trips:50052", "dns:///trips:50052"),
        ("trips.default.svc.cluster.local:50052", "dns:///trips.default.svc.cluster.local:50052"),
        ("127.0.0.1:50052", "dns:///127.0.0.1:50052"),
        ("[::1]:50052", "dns:///[::1]:50052"),
        ("10.0.0.5:50052,10.0.0.6:50053", "ipv4:10.0.0.5:50052,10.0.0.6:50053"),
        (" 10.0.0.5:1 , 10.0.0.6:2 ", "ipv4:10.0.0.5:1,10.0.0.6:2"),
        ("[fd00::5]:50052,[fd00::6]:50052", "ipv6:[fd00::5]:50052,[fd00::6]:50052"),
        ("dns:///trips:50052", "dns:///trips:50052"),
        ("unix:/run/trips.sock", "unix:/run/trips.sock"),
    ],
)
def test_targets(address: str, target: str) -> None:
    assert grpc_target(address) == target


@pytest.mark.parametrize(
    "address",
    [
        "",
        "trips",
        "trips:",
        "trips:http",
        "trips:0",
        "trips:70000",
        "a:1,b:2",
        "10.0.0.5:1,[::1]:1",
    ],
)
def test_bad_addresses_are_refused(address: str) -> None:
    with pytest.raises(ValueError, match=r"host:port|IP addresses|one family|empty"):
        grpc_target(address)


def test_settings_refuse_a_bad_service_address() -> None:
    with pytest.raises(ValueError, match="trips_service_addr"):
        load_settings(_env_file=None, trips_service_addr="trips-a:1,trips-b:1")
    settings = load_settings(_env_file=None, trips_service_addr="10.0.0.5:1,10.0.0.6:1")
    assert settings.trips_service_addr == "10.0.0.5:1,10.0.0.6:1"
