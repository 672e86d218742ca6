"""`python -m services.<name>`: settings, logging, serve until SIGTERM."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable

import uvloop

from tripsage_core.config import Settings, get_settings_or_exit
from tripsage_core.grpc_kit.server import ServiceDefinition, serve_until_signalled
from tripsage_core.grpc_kit.tls import server_credentials
from tripsage_core.logging import LogFiles, configure_logging
from tripsage_core.runtime import MissingSetting
from tripsage_core.telemetry import configure_telemetry, shutdown_telemetry


def run_service(name: str, build: Callable[[Settings], Awaitable[ServiceDefinition]]) -> None:
    settings = get_settings_or_exit()
    configure_logging(
        name, settings.log_level, settings.log_format, LogFiles.from_settings(settings)
    )
    configure_telemetry(name, settings)

    async def _build() -> ServiceDefinition:
        return await build(settings)

    try:
        asyncio.run(
            serve_until_signalled(
                _build,
                port=settings.listen_port(name),
                grace_seconds=settings.shutdown_grace_seconds,
                host=settings.grpc_bind_host,
                credentials=server_credentials(settings),
                reflection=settings.reflection_enabled,
            ),
            # uvloop under grpc.aio: about a tenth less CPU per call in the services
            # (bench/read_path.py, docs/performance.md), asyncpg's sockets most of it.
            loop_factory=uvloop.new_event_loop,
        )
    except MissingSetting as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    finally:
        shutdown_telemetry()
