"""Composition root of the assistant service.

Its RPCs arrive with the assistant issue; until then the generated base class
answers UNIMPLEMENTED. It depends on PostgreSQL (conversations) and Redis.
"""

from __future__ import annotations

from pathlib import Path

from grpc import aio

from services.assistant.rpc_policy import POLICIES
from tripsage.assistant.v1 import assistant_service_pb2, assistant_service_pb2_grpc
from tripsage_core.config import Settings
from tripsage_core.grpc_kit.caller import caller_resolver
from tripsage_core.grpc_kit.server import ServiceDefinition
from tripsage_core.runtime import ServiceRuntime

MIGRATIONS = Path(__file__).parent / "migrations"
SERVICE_NAME = assistant_service_pb2.DESCRIPTOR.services_by_name["AssistantService"].full_name


async def build(settings: Settings) -> ServiceDefinition:
    runtime = ServiceRuntime(settings, service="assistant", migrations_dir=MIGRATIONS)

    def register(server: aio.Server) -> None:
        assistant_service_pb2_grpc.add_AssistantServiceServicer_to_server(
            assistant_service_pb2_grpc.AssistantServiceServicer(),  # type: ignore[abstract]
            server,
        )

    return ServiceDefinition(
        name="assistant",
        service_names=[SERVICE_NAME],
        register=register,
        access={SERVICE_NAME: POLICIES},
        callers=caller_resolver(settings, redis_client=runtime.redis),
        readiness=runtime.ready,
        on_stop=runtime.close,
        components=runtime.components,
    )
