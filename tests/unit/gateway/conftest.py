"""Fixtures for the gateway unit tests: the test-only ``gatewaytest.v1`` proto.

The proto (protos/gatewaytest/v1/echo.proto) exercises every google.api.http
feature the gateway supports. It is compiled with grpc_tools into a temporary
directory once per process, so no generated test code is committed.
"""

from __future__ import annotations

import importlib
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import grpc_tools
import pytest
from google.api import annotations_pb2
from google.protobuf.descriptor import ServiceDescriptor
from grpc_tools import protoc

from gateway.routes import HttpBinding, RouteTable

PROTO_ROOT = Path(__file__).resolve().parent / "protos"
PROTO_FILE = "gatewaytest/v1/echo.proto"
MODULE = "gatewaytest.v1.echo_pb2"


def load_echo_module() -> ModuleType:
    """gatewaytest.v1.echo_pb2, compiled on first use."""
    if MODULE not in sys.modules:
        googleapis = Path(annotations_pb2.__file__).resolve().parent.parent.parent
        well_known = Path(grpc_tools.__file__).resolve().parent / "_proto"
        out_dir = Path(tempfile.mkdtemp(prefix="gatewaytest-proto-"))
        args = ["protoc", f"-I{PROTO_ROOT}", f"-I{googleapis}", f"-I{well_known}"]
        args += [f"--python_out={out_dir}", PROTO_FILE]
        if protoc.main(args) != 0:
            raise RuntimeError(f"protoc failed for {PROTO_FILE}")
        for package in (out_dir / "gatewaytest", out_dir / "gatewaytest" / "v1"):
            (package / "__init__.py").touch()
        sys.path.insert(0, str(out_dir))
    return importlib.import_module(MODULE)


@pytest.fixture(scope="session")
def echo_pb2() -> ModuleType:
    return load_echo_module()


@pytest.fixture(scope="session")
def echo_service(echo_pb2: ModuleType) -> ServiceDescriptor:
    service: ServiceDescriptor = echo_pb2.DESCRIPTOR.services_by_name["EchoService"]
    return service


@pytest.fixture(scope="session")
def echo_table(echo_service: ServiceDescriptor) -> RouteTable:
    return RouteTable.from_services([echo_service])


@pytest.fixture(scope="session")
def binding_for(echo_table: RouteTable) -> Callable[..., HttpBinding]:
    def find(
        method_name: str, http_method: str | None = None, template_prefix: str = ""
    ) -> HttpBinding:
        for binding in echo_table.bindings:
            if (
                binding.method.name == method_name
                and (http_method is None or binding.http_method == http_method)
                and binding.template.source.startswith(template_prefix)
            ):
                return binding
        raise LookupError(method_name)

    return find
