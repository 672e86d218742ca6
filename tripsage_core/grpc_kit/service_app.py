"""The end of every composition root: one servicer, its policies and its runtime as a
ServiceDefinition, named as the service registry lists the service."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from grpc import aio

from tripsage_core.grpc_kit.access import AccessTable, AdminCheck
from tripsage_core.grpc_kit.caller import CallerResolver
from tripsage_core.grpc_kit.diagnostics import Describe, Modes
from tripsage_core.grpc_kit.server import Readiness, ServiceDefinition, always_ready
from tripsage_core.runtime import ServiceRuntime
from tripsage_core.service_registry import SERVICES


def grpc_service_name(service: str) -> str:
    """The full gRPC name of what `service` (a registry name such as "trips") serves."""
    return next(info.grpc_service for info in SERVICES if info.name == service)


def service_definition[S](
    service: str,
    servicer: S,
    add_servicer: Callable[[S, aio.Server], None],
    policies: AccessTable,
    callers: CallerResolver,
    *,
    runtime: ServiceRuntime | None = None,
    is_admin: AdminCheck | None = None,
    readiness: Readiness | None = None,
    on_stop: Callable[[], Awaitable[None]] | None = None,
    components: Callable[[], Mapping[str, bool]] | None = None,
    metrics_port: int | None = None,
    describe: Describe | None = None,
    modes: Modes | None = None,
) -> ServiceDefinition:
    """`servicer` added by its generated `add_…_to_server`, its RPCs guarded by `policies`.
    With a `runtime`, readiness, stop, components and describe are the runtime's; a service
    without one (travel) passes its own. `modes` names the service's modes for operators."""
    name = grpc_service_name(service)
    if runtime is not None:
        readiness, on_stop, components = runtime.ready, runtime.close, runtime.components
        describe = runtime.describe

    def register(server: aio.Server) -> None:
        add_servicer(servicer, server)

    return ServiceDefinition(
        name=service,
        service_names=[name],
        register=register,
        access={name: policies},
        callers=callers,
        is_admin=is_admin,
        readiness=readiness or always_ready,
        on_stop=on_stop,
        components=components,
        metrics_port=metrics_port,
        describe=describe,
        modes=modes,
    )
