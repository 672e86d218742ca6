"""Runs real services and the real gateway inside the test process, on free ports."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway.app import create_app
from gateway.callers import gateway_callers
from gateway.discovery import upstream_addresses
from services.assistant.app import build as build_assistant
from services.auth.app import build as build_auth
from services.travel.app import build as build_travel
from services.trips.app import build as build_trips
from tests.support.http_server import serve_asgi
from tests.support.outbox import Outbox
from tripsage_core.config import Settings, load_settings
from tripsage_core.embedded import free_port
from tripsage_core.grpc_kit.server import GrpcService, ServiceDefinition
from tripsage_core.grpc_kit.tls import channel_credentials, open_channel, server_credentials
from tripsage_core.service_credentials import service_credentials

JWT_SECRET = "test-jwt-secret-0123456789abcdefghijklmnopqrstuvwxyz"
# Opens the gateway's detailed health and metrics (OPERATOR_TOKEN).
OPERATOR_TOKEN = "test-operator-token-0123456789abcdefghijklmnopqrstuvwxyz"
OPERATOR_HEADERS = {"authorization": f"Bearer {OPERATOR_TOKEN}"}
BUILDERS: dict[str, Callable[[Settings], Awaitable[ServiceDefinition]]] = {
    "auth": build_auth,
    "trips": build_trips,
    "travel": build_travel,
    "assistant": build_assistant,
}


def make_settings(postgres_dsn: str, redis_url: str, data_dir: Path, **overrides: Any) -> Settings:
    ports = {name: free_port() for name in BUILDERS}
    values: dict[str, Any] = {
        "_env_file": None,
        "environment": "testing",
        "postgres_url": postgres_dsn,
        "redis_url": redis_url,
        "secret_key": "test-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "database_jwt_secret": JWT_SECRET,
        "operator_token": OPERATOR_TOKEN,
        "tripsage_data_dir": data_dir,
        "shutdown_grace_seconds": 2,
        **{f"{name}_service_addr": f"127.0.0.1:{port}" for name, port in ports.items()},
    }
    values.update(overrides)
    return load_settings(**values)


async def wait_serving(
    address: str,
    service: str = "",
    timeout: float = 30.0,
    credentials: grpc.ChannelCredentials | None = None,
) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    last = "no answer yet"
    while True:
        # A fresh channel each try: one channel whose first connection failed can sit in
        # grpc's reconnect backoff past the deadline while the server answers others.
        async with open_channel(address, credentials) as channel:
            try:
                reply = await health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(service=service), timeout=1
                )
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
                last = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
            except grpc.aio.AioRpcError as error:
                last = f"{error.code().name}: {error.details()}"
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"{address} did not become SERVING within {timeout} s ({last})")
        await asyncio.sleep(0.1)


@dataclass
class RunningSuite:
    settings: Settings
    services: dict[str, GrpcService] = field(default_factory=dict)
    gateway_url: str = ""
    # What auth sends (reset and verification links) lands here, not in the logs.
    outbox: Outbox = field(default_factory=Outbox)
    _gateway: AsyncExitStack = field(default_factory=AsyncExitStack)

    def address(self, name: str) -> str:
        return self.settings.service_addr(name)

    async def start_service(self, name: str) -> GrpcService:
        # Not yet understood: now and then (2 CI runs in 4 on 2026-12-08, always in the module
        # after test_service_metrics or test_tracing_chat) a service started here logs
        # "listening" and SERVING while its port refuses connections for the whole 30 s.
        # A second start on a fresh port is tried once, saying so, so that the flake does
        # not fail the run while it is investigated (docs/reliability.md).
        try:
            return await self._start_service(name)
        except TimeoutError as first:
            logging.getLogger("tests.suite").warning("%s: %s; starting it again", name, first)
            await self.services.pop(name).stop()
            return await self._start_service(name)

    async def _start_service(self, name: str) -> GrpcService:
        definition = (
            await build_auth(self.settings, notifier=self.outbox)
            if name == "auth" and self.settings.notifier_url is None
            else await BUILDERS[name](self.settings)
        )
        service = GrpcService(
            definition, grace_seconds=2, reflection=self.settings.reflection_enabled
        )
        # Port 0: the kernel picks a free port, so parallel runs never collide.
        port = await service.start(
            0, host="127.0.0.1", credentials=server_credentials(self.settings)
        )
        setattr(self.settings, f"{name}_service_addr", f"127.0.0.1:{port}")
        self.services[name] = service
        await wait_serving(self.address(name), credentials=channel_credentials(self.settings))
        return service

    async def start_gateway(self, **options: Any) -> str:
        """The gateway in front of the suite; `options` go to create_app (rate_limiter=...)."""
        app = create_app(
            upstream_addresses(self.settings),
            call_timeout=10,
            callers=gateway_callers(self.settings),
            channel_credentials=channel_credentials(self.settings),
            service_credentials=service_credentials(self.settings),
            **options,
        )
        self.gateway_url = await self._gateway.enter_async_context(
            serve_asgi(app, lifespan="on", trusted_proxies=self.settings.trusted_proxies)
        )
        return self.gateway_url

    async def stop(self) -> None:
        await self._gateway.aclose()
        for service in self.services.values():
            await service.stop()


@asynccontextmanager
async def whole_suite(settings: Settings) -> AsyncIterator[RunningSuite]:
    """Every service and the gateway with these settings, stopped afterwards."""
    running = RunningSuite(settings)
    try:
        for name in BUILDERS:
            await running.start_service(name)
        await running.start_gateway()
        yield running
    finally:
        await running.stop()
