"""Every RPC of every service declares who may call it, and nothing else is declared."""

from __future__ import annotations

import pytest
from google.protobuf.descriptor import FileDescriptor

from services.assistant import rpc_policy as assistant_policy
from services.auth import rpc_policy as auth_policy
from services.travel import rpc_policy as travel_policy
from services.trips import rpc_policy as trips_policy
from tripsage.assistant.v1 import assistant_service_pb2
from tripsage.auth.v1 import auth_service_pb2
from tripsage.travel.v1 import travel_service_pb2
from tripsage.trips.v1 import trip_service_pb2
from tripsage_core.grpc_kit.access import AccessTable

DECLARED: list[tuple[FileDescriptor, AccessTable]] = [
    (auth_service_pb2.DESCRIPTOR, auth_policy.POLICIES),
    (trip_service_pb2.DESCRIPTOR, trips_policy.POLICIES),
    (travel_service_pb2.DESCRIPTOR, travel_policy.POLICIES),
    (assistant_service_pb2.DESCRIPTOR, assistant_policy.POLICIES),
]


@pytest.mark.parametrize(("descriptor", "table"), DECLARED, ids=lambda d: getattr(d, "name", ""))
def test_every_method_has_exactly_one_declared_policy(
    descriptor: FileDescriptor, table: AccessTable
) -> None:
    (service,) = descriptor.services_by_name.values()
    methods = {method.name for method in service.methods}
    assert methods - set(table) == set(), f"{service.full_name}: RPCs without a policy"
    assert set(table) - methods == set(), f"{service.full_name}: policies for no RPC"
