"""python -m gateway: the REST/JSON gateway on PORT (default 8000).

With GATEWAY_WORKERS above 1, uvicorn runs that many processes on one socket,
each building its own app (channels, rate limiter, caches) from the settings.
"""

from __future__ import annotations

import atexit
import os
import signal

import uvicorn
from starlette.types import ASGIApp
from uvicorn.supervisors import Multiprocess

from gateway.app import create_app
from gateway.callers import gateway_callers
from gateway.discovery import upstream_addresses
from gateway.rate_limit import RateLimiter, RateLimits
from gateway.serving import server_config
from tripsage_core import client_address
from tripsage_core.cache import redis_from_settings
from tripsage_core.config import Settings, get_settings_or_exit
from tripsage_core.grpc_kit.tls import channel_credentials
from tripsage_core.logging import LogFiles, configure_logging
from tripsage_core.service_credentials import service_credentials
from tripsage_core.telemetry import configure_telemetry, shutdown_telemetry


def build_app(settings: Settings | None = None) -> ASGIApp:
    """The served app, with logging and tracing set up for this process."""
    settings = settings or get_settings_or_exit()
    # With GATEWAY_WORKERS > 1 each worker process writes its own file.
    name = f"gateway-{os.getpid()}" if settings.gateway_workers > 1 else "gateway"
    files = LogFiles.from_settings(settings, name)
    configure_logging("gateway", settings.log_level, settings.log_format, files)
    tracing = configure_telemetry("gateway", settings)
    client_address.SEAL.use_settings(settings)  # how services know the address is ours
    limiter = None
    if settings.rate_limit_per_minute > 0:
        # Without REDIS_URL (only outside production) each process counts on its own.
        limiter = RateLimiter(redis_from_settings(settings), RateLimits.from_settings(settings))
    app = create_app(
        upstream_addresses(settings),
        cors_origins=settings.cors_origins,
        cors_credentials=settings.cors_credentials,
        call_timeout=settings.gateway_call_timeout_seconds,
        max_body_bytes=settings.gateway_max_body_bytes,
        stream_heartbeat=settings.gateway_stream_heartbeat_seconds,
        long_call_timeout=settings.gateway_long_call_timeout_seconds,
        stream_timeout=settings.gateway_stream_timeout_seconds,
        rate_limiter=limiter,
        callers=gateway_callers(settings),
        channel_credentials=channel_credentials(settings),
        service_credentials=service_credentials(settings),
    )
    if tracing:  # imported only then: OpenTelemetry is megabytes a gateway without it never uses
        from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

        return OpenTelemetryMiddleware(app, excluded_urls="/api/health.*,/metrics")
    return app


def _worker_app() -> ASGIApp:
    """uvicorn's factory in each worker process (GATEWAY_WORKERS > 1)."""
    atexit.register(shutdown_telemetry)
    return build_app()


def main() -> None:
    settings = get_settings_or_exit()
    options = {
        "host": "0.0.0.0",
        "port": settings.listen_port("gateway"),
        "trusted_proxies": settings.trusted_proxies,
        "log_config": None,  # keep our structured logging
        "access_log": False,  # the gateway logs one line per request itself
        "timeout_graceful_shutdown": int(settings.shutdown_grace_seconds),
    }
    if settings.gateway_workers > 1:
        configure_logging("gateway", settings.log_level, settings.log_format)
        config = server_config(
            "gateway.__main__:_worker_app",  # type: ignore[arg-type]  # an import string
            factory=True,
            workers=settings.gateway_workers,
            **options,  # type: ignore[arg-type]
        )
        Multiprocess(config, sockets=[config.bind_socket()]).run()
        return
    app = build_app(settings)
    # uvicorn re-raises the signal that stopped it once it has shut down; with these
    # handlers in place that returns here, so buffered spans are still exported.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    config = server_config(app, **options)  # type: ignore[arg-type]
    try:
        uvicorn.Server(config).run()
    finally:
        shutdown_telemetry()


if __name__ == "__main__":
    main()
