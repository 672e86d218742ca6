"""`tripsage verify-connection` and `tripsage verify-setup`: one pass/fail line per check.

verify-connection asks only the backing servers (PostgreSQL, Redis);
verify-setup also checks the settings, that every service's migrations are
applied, each service's gRPC health at its *_SERVICE_ADDR, and says which
travel providers and which assistant model run live and which are
sandboxed or offline (information, never a failure: the sandboxes are a
supported way to run).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg

from tripsage_core.config import Settings
from tripsage_core.service_registry import SERVICE_NAMES

TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'PASS' if self.ok else 'FAIL'}  {self.name}: {self.detail}"


def _reason(exc: Exception) -> str:
    code = getattr(exc, "code", None)
    details = getattr(exc, "details", None)
    if callable(code) and callable(details):  # a gRPC error: its code and text only
        return f"{code().name}: {details()}"
    return f"{type(exc).__name__}: {exc}".strip()


async def _timed(name: str, probe: Callable[[], Awaitable[str]]) -> Check:
    started = time.perf_counter()
    try:
        detail = await probe()
    except Exception as exc:  # any failure is this check's answer, reported as such
        return Check(name, False, _reason(exc))
    return Check(name, True, f"{detail} ({(time.perf_counter() - started) * 1000:.1f} ms)")


async def check_database(dsn: str) -> Check:
    async def probe() -> str:
        conn: asyncpg.Connection[Any] = await asyncpg.connect(dsn, timeout=TIMEOUT_SECONDS)
        try:
            version = await conn.fetchval("SHOW server_version")
        finally:
            await conn.close()
        return f"PostgreSQL {version}"

    return await _timed("database", probe)


async def check_redis(settings: Settings) -> Check:
    from tripsage_core.cache import redis_from_settings

    redis = redis_from_settings(settings)
    if redis is None:
        return Check("cache", False, "REDIS_URL is not set (nor UPSTASH_REDIS_REST_URL)")

    async def probe() -> str:
        try:
            await redis.ping()
            info = await redis.info("server")
        finally:
            await redis.aclose()
        name = "Valkey" if "valkey_version" in info else "Redis"
        return f"{name} {info.get('valkey_version') or info.get('redis_version', '?')}"

    return await _timed("cache", probe)


async def check_migrations(dsn: str) -> list[Check]:
    from tripsage.launcher import migration_dirs
    from tripsage_core.migrations import load_migrations

    try:
        conn: asyncpg.Connection[Any] = await asyncpg.connect(dsn, timeout=TIMEOUT_SECONDS)
    except Exception as exc:  # reported by the database check too
        return [Check("migrations", False, f"database unreachable: {exc}")]
    try:
        recorded = await conn.fetch(
            "SELECT service, name, checksum FROM tripsage_meta.schema_migrations"
        )
    except asyncpg.UndefinedTableError:
        recorded = []
    finally:
        await conn.close()
    applied = {(row["service"], row["name"]): row["checksum"] for row in recorded}
    checks: list[Check] = []
    for service, directory in migration_dirs().items():
        files = load_migrations(directory)
        missing = [m.name for m in files if (service, m.name) not in applied]
        changed = [
            m.name
            for m in files
            if (service, m.name) in applied and applied[(service, m.name)] != m.checksum
        ]
        if changed:
            detail = f"applied files changed since: {', '.join(changed)}"
        elif missing:
            detail = f"not applied: {', '.join(missing)} (run `tripsage migrate`)"
        else:
            detail = f"{len(files)} applied"
        checks.append(Check(f"migrations {service}", not missing and not changed, detail))
    return checks


async def check_service(settings: Settings, service: str) -> Check:
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    from tripsage_core.grpc_kit.tls import channel_credentials, open_channel

    address = settings.service_addr(service)

    async def probe() -> str:
        async with open_channel(address, channel_credentials(settings)) as channel:
            reply = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=TIMEOUT_SECONDS
            )
        status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
        if reply.status != health_pb2.HealthCheckResponse.SERVING:
            raise RuntimeError(f"{status} at {address}")
        return f"{status} at {address}"

    return await _timed(f"service {service}", probe)


def modes(settings: Settings) -> list[Check]:
    """Which parts answer from the real APIs; the sandboxes and offline model are valid."""

    def mode(key: object, *, live: str = "live", otherwise: str = "sandbox") -> str:
        return live if key is not None else otherwise

    model = (
        "live (OpenAI-compatible)"
        if settings.openai_api_key is not None or settings.openai_base_url
        else "offline planner"
    )
    return [
        Check("provider duffel (flights, stays)", True, mode(settings.duffel_access_token)),
        Check("provider google_maps (places, geocoding)", True, mode(settings.google_maps_api_key)),
        Check("provider openweathermap (weather)", True, mode(settings.openweathermap_api_key)),
        Check("assistant model", True, model),
    ]


def settings_check(settings: Settings) -> Check:
    problems = settings.problems() + settings.tls_problems()
    if problems:
        return Check("settings", False, "; ".join(problems))
    return Check("settings", True, f"valid for {settings.environment.value}")


async def verify_connection(settings: Settings, dsn: str) -> list[Check]:
    return [await check_database(dsn), await check_redis(settings)]


async def verify_setup(settings: Settings, dsn: str) -> list[Check]:
    checks = [settings_check(settings), *await verify_connection(settings, dsn)]
    checks += await check_migrations(dsn)
    for service in SERVICE_NAMES:
        checks.append(await check_service(settings, service))
    return checks + modes(settings)
