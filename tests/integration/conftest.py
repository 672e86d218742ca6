"""Clients of the module's `suite` shared by the integration tests (a module that needs
another configuration defines its own `suite` fixture)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import httpx
import pytest

from tests.support.suite import RunningSuite
from tripsage.assistant.v1 import assistant_service_pb2_grpc
from tripsage.auth.v1 import auth_service_pb2_grpc
from tripsage.trips.v1 import trip_service_pb2_grpc


@pytest.fixture
async def trips(suite: RunningSuite) -> AsyncIterator[trip_service_pb2_grpc.TripServiceAsyncStub]:
    async with grpc.aio.insecure_channel(suite.address("trips")) as channel:
        yield trip_service_pb2_grpc.TripServiceStub(channel)


@pytest.fixture
async def http(suite: RunningSuite) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=suite.gateway_url, timeout=30) as client:
        yield client


@pytest.fixture
async def auth(suite: RunningSuite) -> AsyncIterator[auth_service_pb2_grpc.AuthServiceAsyncStub]:
    async with grpc.aio.insecure_channel(suite.address("auth")) as channel:
        yield auth_service_pb2_grpc.AuthServiceStub(channel)


@pytest.fixture
async def assistant(
    suite: RunningSuite,
) -> AsyncIterator[assistant_service_pb2_grpc.AssistantServiceAsyncStub]:
    async with grpc.aio.insecure_channel(suite.address("assistant")) as channel:
        yield assistant_service_pb2_grpc.AssistantServiceStub(channel)
