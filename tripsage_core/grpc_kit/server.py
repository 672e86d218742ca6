"""The gRPC server every service runs: health, reflection, interceptors, graceful stop.

Health starts NOT_SERVING and turns SERVING only once the service's own
dependencies answer; it is re-checked while running so an orchestrator stops
sending traffic to a replica that lost its database. On SIGTERM (or SIGINT)
health turns NOT_SERVING, in-flight calls drain for the grace period, then the
server stops and the service's resources are closed.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
from grpc import aio
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio  # type: ignore[attr-defined]
from grpc_reflection.v1alpha import reflection

from tripsage_core.grpc_kit.access import Access, AccessTable, AdminCheck
from tripsage_core.grpc_kit.caller import CallerResolver
from tripsage_core.grpc_kit.diagnostics import (
    DIAGNOSTICS_ACCESS,
    DIAGNOSTICS_SERVICE,
    Describe,
    Diagnostics,
    Modes,
)
from tripsage_core.grpc_kit.interceptors import ServerKit
from tripsage_core.grpc_kit.metrics import method_metrics, serve_metrics
from tripsage_core.telemetry import untraced

logger = logging.getLogger("tripsage.server")

Readiness = Callable[[], Awaitable[bool]]


async def always_ready() -> bool:
    return True


@dataclass
class ServiceDefinition:
    """What a service plugs into the kit, built by its composition root."""

    name: str
    service_names: Sequence[str]
    register: Callable[[aio.Server], None]
    # Who may call each RPC, per gRPC service name (see grpc_kit.access), and how the
    # callers' credentials are verified. An RPC missing from `access` is refused.
    access: Mapping[str, AccessTable] = field(default_factory=dict)
    callers: CallerResolver | None = None
    # How ADMIN policies confirm the role (default: the token's role claim).
    is_admin: AdminCheck | None = None
    readiness: Readiness = always_ready
    on_stop: Callable[[], Awaitable[None]] | None = None
    # Last-known state of each dependency ("database", "redis", ...), read after each
    # readiness check and published as health names "<service>/<component>". They
    # inform operators; only `readiness` decides SERVING.
    components: Callable[[], Mapping[str, bool]] | None = None
    # Where this process serves Prometheus metrics (None: nowhere).
    metrics_port: int | None = None
    extra_interceptors: Sequence[aio.ServerInterceptor[Any, Any]] = field(default_factory=tuple)
    # Figures for the kit's Diagnostics/Describe (grpc_kit.diagnostics): the runtime's
    # dependency latencies and pool use, and the service's named modes (provider -> live,
    # sandbox, failing, circuit_open; model -> live, offline).
    describe: Describe | None = None
    modes: Modes | None = None


class GrpcService:
    """A running gRPC server for one service definition."""

    def __init__(
        self,
        definition: ServiceDefinition,
        *,
        grace_seconds: float = 10.0,
        health_interval: float = 2.0,
        reflection: bool = True,
    ) -> None:
        self.definition = definition
        self.reflection = reflection
        self.grace_seconds = grace_seconds
        self.health_interval = health_interval
        self.server = aio.server(
            interceptors=[
                ServerKit(
                    access=Access(
                        {**definition.access, DIAGNOSTICS_SERVICE: DIAGNOSTICS_ACCESS},
                        definition.callers,
                        is_admin=definition.is_admin,
                    ),
                    metrics=method_metrics,
                ),
                *definition.extra_interceptors,
            ],
            options=[
                ("grpc.so_reuseport", 0),
                # Clients reconnect (and re-resolve DNS) every ~5 minutes, so replicas added
                # behind a headless Service name get calls; open streams are not cut.
                ("grpc.max_connection_age_ms", 300_000),
            ],
        )
        self.health = health_aio.HealthServicer()
        self.diagnostics = Diagnostics(definition.describe, definition.modes)
        self.port = 0
        self._watcher: asyncio.Task[None] | None = None
        self._stopped = asyncio.Event()
        self._stopping = False

    @property
    def health_names(self) -> list[str]:
        return ["", *self.definition.service_names]

    async def start(
        self,
        port: int,
        host: str = "127.0.0.1",
        credentials: grpc.ServerCredentials | None = None,
    ) -> int:
        """Listen on host:port (port 0: any free one), over TLS when credentials are given."""
        definition = self.definition
        definition.register(self.server)
        self.diagnostics.register(self.server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        if self.reflection:
            reflection.enable_server_reflection(
                [*definition.service_names, health.SERVICE_NAME, reflection.SERVICE_NAME],
                self.server,
            )
        await self._set_all(health_pb2.HealthCheckResponse.NOT_SERVING)
        bind = f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"
        if credentials is None:
            self.port = self.server.add_insecure_port(bind)
        else:
            self.port = self.server.add_secure_port(bind, credentials)
        await self.server.start()
        serve_metrics(definition.metrics_port, host)
        self._watcher = asyncio.create_task(self._watch_readiness())
        logger.info(
            "%s listening",
            definition.name,
            extra={"host": host, "port": self.port, "tls": credentials is not None},
        )
        return self.port

    async def _set_all(
        self, status: health_pb2.HealthCheckResponse.ServingStatus.ValueType
    ) -> None:
        for name in self.health_names:
            await self.health.set(name, status)

    async def _publish_components(self, known: dict[str, bool]) -> None:
        if self.definition.components is None or self._stopping:
            return
        for component, ok in self.definition.components().items():
            if known.get(component) == ok:
                continue
            known[component] = ok
            status = (
                health_pb2.HealthCheckResponse.SERVING
                if ok
                else health_pb2.HealthCheckResponse.NOT_SERVING
            )
            for name in self.definition.service_names:
                await self.health.set(f"{name}/{component}", status)
            log = logger.info if ok else logger.warning
            log("component %s %s", component, "SERVING" if ok else "NOT_SERVING")

    async def _watch_readiness(self) -> None:
        serving: bool | None = None
        components: dict[str, bool] = {}
        while not self._stopping:
            try:
                # Readiness pings every few seconds would flood traces with noise.
                with untraced():
                    ready = await asyncio.wait_for(self.definition.readiness(), timeout=5)
            except Exception as exc:
                ready = False
                logger.warning("readiness check failed: %s", exc)
            await self._publish_components(components)
            if ready != serving and not self._stopping:
                serving = ready
                await self._set_all(
                    health_pb2.HealthCheckResponse.SERVING
                    if ready
                    else health_pb2.HealthCheckResponse.NOT_SERVING
                )
                logger.info("health %s", "SERVING" if ready else "NOT_SERVING")
            # Poll quickly until first ready so start-up is fast, then settle down.
            await asyncio.sleep(self.health_interval if ready else 0.25)

    async def stop(self) -> None:
        if self._stopping:
            await self._stopped.wait()
            return
        self._stopping = True
        logger.info("stopping: NOT_SERVING, draining for up to %ss", self.grace_seconds)
        await self.health.enter_graceful_shutdown()
        if self._watcher is not None:
            self._watcher.cancel()
        await self.server.stop(self.grace_seconds)
        if self.definition.on_stop is not None:
            await self.definition.on_stop()
        logger.info("%s stopped", self.definition.name)
        self._stopped.set()


async def serve_until_signalled(
    build: Callable[[], Awaitable[ServiceDefinition]],
    *,
    port: int,
    grace_seconds: float,
    host: str = "127.0.0.1",
    credentials: grpc.ServerCredentials | None = None,
    reflection: bool = True,
) -> None:
    """Entry-point loop: start, wait for SIGTERM/SIGINT, drain, stop."""
    definition = await build()
    service = GrpcService(definition, grace_seconds=grace_seconds, reflection=reflection)
    await service.start(port, host=host, credentials=credentials)
    loop = asyncio.get_running_loop()
    stop_requested = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop_requested.set)
    await stop_requested.wait()
    await service.stop()
