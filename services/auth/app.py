"""Composition root of the auth service: the one place real adapters are wired."""

from __future__ import annotations

from pathlib import Path

from grpc import aio

from services.auth.accounts import Accounts
from services.auth.servicer import AuthServicer
from services.auth.store import UserStore
from tripsage.auth.v1 import auth_service_pb2, auth_service_pb2_grpc
from tripsage_core.config import Settings
from tripsage_core.grpc_kit.caller import caller_resolver
from tripsage_core.grpc_kit.server import ServiceDefinition
from tripsage_core.identity import access_tokens
from tripsage_core.runtime import ServiceRuntime

MIGRATIONS = Path(__file__).parent / "migrations"
SERVICE_NAME = auth_service_pb2.DESCRIPTOR.services_by_name["AuthService"].full_name


async def build(settings: Settings) -> ServiceDefinition:
    runtime = ServiceRuntime(settings, service="auth", migrations_dir=MIGRATIONS)
    tokens = access_tokens(settings)
    accounts = Accounts(
        UserStore(runtime.db), tokens, refresh_ttl_seconds=settings.refresh_token_ttl_seconds
    )
    # The generated base answers UNIMPLEMENTED for RPCs not written yet; its stub
    # calls those abstract.
    servicer = AuthServicer(accounts, caller_resolver(settings))  # type: ignore[abstract]

    def register(server: aio.Server) -> None:
        auth_service_pb2_grpc.add_AuthServiceServicer_to_server(servicer, server)

    return ServiceDefinition(
        name="auth",
        service_names=[SERVICE_NAME],
        register=register,
        readiness=runtime.ready,
        on_stop=runtime.close,
    )
