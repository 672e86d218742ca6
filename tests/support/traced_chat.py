"""One chat turn through a traced suite and gateway, run in a process of its own
(`python -m tests.support.traced_chat DSN REDIS_URL DATA_DIR OTLP_ENDPOINT`) so
OpenTelemetry's process-wide instrumentation never reaches the rest of the test run."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import httpx
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

from gateway.app import create_app
from gateway.callers import gateway_callers
from gateway.discovery import upstream_addresses
from tests.support.accounts import register
from tests.support.http_server import serve_asgi
from tests.support.suite import BUILDERS, RunningSuite, make_settings
from tripsage_core.telemetry import configure_telemetry, shutdown_telemetry

MESSAGE = "weather in Seville"


async def chat_turn(dsn: str, redis_url: str, data_dir: Path, endpoint: str) -> None:
    settings = make_settings(dsn, redis_url, data_dir, otel_exporter_otlp_endpoint=endpoint)
    assert configure_telemetry("suite", settings)
    running = RunningSuite(settings)
    try:
        for name in BUILDERS:
            await running.start_service(name)
        app = OpenTelemetryMiddleware(
            create_app(
                upstream_addresses(settings), call_timeout=10, callers=gateway_callers(settings)
            )
        )
        async with (
            serve_asgi(app, lifespan="on") as url,
            httpx.AsyncClient(base_url=url, timeout=30) as http,
        ):
            ana = await register(settings.service_addr("auth"), "traced")
            made = await http.post("/api/v1/conversations", json={}, headers=ana.headers)
            conversation = made.json()["conversation"]["id"]
            said = await http.post(
                f"/api/v1/conversations/{conversation}/messages",
                json={"content": MESSAGE},
                headers=ana.headers,
            )
            assert said.status_code == 200, said.text
    finally:
        await running.stop()
        shutdown_telemetry()  # exports what is still buffered


if __name__ == "__main__":
    dsn, redis_url, data_dir, endpoint = sys.argv[1:5]
    asyncio.run(chat_turn(dsn, redis_url, Path(data_dir), endpoint))
