"""Every RPC of every service declares who may call it, and nothing else is declared."""

from __future__ import annotations

import importlib

import pytest

from tripsage_core.service_registry import SERVICES, ServiceInfo


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_every_method_has_exactly_one_declared_policy(service: ServiceInfo) -> None:
    table = importlib.import_module(f"{service.module}.rpc_policy").POLICIES
    methods = {method.name for method in service.descriptor().methods}
    assert methods - set(table) == set(), f"{service.grpc_service}: RPCs without a policy"
    assert set(table) - methods == set(), f"{service.grpc_service}: policies for no RPC"
