"""Upstream health via grpc.health.v1 Check, checked concurrently."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway.discovery import short_service_name
from gateway.upstream import ChannelPool
from tripsage_core.grpc_kit.diagnostics import describe

HEALTH_TIMEOUT_SECONDS = 2.0
SERVING = "SERVING"
UNREACHABLE = "UNREACHABLE"
SERVICE_UNKNOWN = "SERVICE_UNKNOWN"
# Dependencies a service may publish as "<service>/<component>" health names
# (tripsage_core.grpc_kit.server); those it does not publish are left out.
COMPONENTS = ("database", "redis")


@dataclass(frozen=True, slots=True)
class CheckResult:
    status: str  # SERVING / NOT_SERVING / UNKNOWN / SERVICE_UNKNOWN / UNREACHABLE
    latency_ms: float
    error: str | None = None


async def check(channel: grpc.aio.Channel, service: str, deadline: float) -> CheckResult:
    """One grpc.health.v1 Check; errors become a status, never an exception."""
    stub = health_pb2_grpc.HealthStub(channel)
    started = time.perf_counter()
    try:
        response = await stub.Check(
            health_pb2.HealthCheckRequest(service=service), timeout=deadline
        )
    except grpc.aio.AioRpcError as error:
        elapsed = (time.perf_counter() - started) * 1000
        code = error.code()
        if code is grpc.StatusCode.NOT_FOUND:
            status = SERVICE_UNKNOWN
        elif code is grpc.StatusCode.UNIMPLEMENTED:
            status = "UNKNOWN"
        else:
            status = UNREACHABLE
        return CheckResult(status, round(elapsed, 2), f"{code.name}: {error.details()}")
    elapsed = (time.perf_counter() - started) * 1000
    name = health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)
    return CheckResult(name, round(elapsed, 2))


DEGRADED = "degraded"


class GatewayPart(Protocol):
    """Something of the gateway's own with a state for the detailed health (the rate
    limiter: {"status": "OK"} or {"status": "degraded", ...} while Redis is away)."""

    async def health(self) -> dict[str, Any]: ...


class HealthChecker:
    def __init__(
        self,
        pool: ChannelPool,
        timeout: float = HEALTH_TIMEOUT_SECONDS,
        rate_limiter: GatewayPart | None = None,
        service_token: Callable[[], str] | None = None,
    ) -> None:
        self.pool = pool
        # Mints the gateway's service credential for each service's Diagnostics/Describe;
        # without it the detailed health shows the health checks only.
        self.service_token = service_token
        self.timeout = timeout
        self.rate_limiter = rate_limiter

    async def summary(self) -> tuple[bool, dict[str, Any]]:
        """(healthy, body) for ``/api/health``: the server-wide status of each upstream."""
        upstreams = sorted(self.pool.upstreams.items())
        results = await asyncio.gather(
            *(check(self.pool.channel(address), "", self.timeout) for _, address in upstreams)
        )
        services = {
            short_service_name(name): result.status
            for (name, _), result in zip(upstreams, results, strict=True)
        }
        healthy = all(result.status == SERVING for result in results)
        return healthy, {"status": "healthy" if healthy else "unhealthy", "services": services}

    async def detailed(self) -> tuple[bool, dict[str, Any]]:
        """(healthy, body) with the named service's status, latency, address and the
        state of the dependencies it publishes (informational: a service that works
        without one, like travel without its cache, stays healthy)."""
        upstreams = sorted(self.pool.upstreams.items())
        results, limiter = await asyncio.gather(
            asyncio.gather(*(self._detail(name, address) for name, address in upstreams)),
            self._limiter_state(),
        )
        services = {
            short_service_name(name): body
            for (name, _), body in zip(upstreams, results, strict=True)
        }
        healthy = all(body["status"] == SERVING for body in results)
        body: dict[str, Any] = {
            "status": "healthy" if healthy else "unhealthy",
            "services": services,
        }
        if limiter is not None:
            # Degraded is not down: the gateway serves with per-process limits (200).
            body["rateLimiter"] = limiter
            if healthy and limiter.get("status") == DEGRADED:
                body["status"] = DEGRADED
        return healthy, body

    async def _limiter_state(self) -> dict[str, Any] | None:
        return await self.rate_limiter.health() if self.rate_limiter is not None else None

    async def _describe(self, channel: grpc.aio.Channel) -> dict[str, Any] | None:
        """The service's own figures (version, uptime, latencies, pool, modes), or None
        when it does not answer in time: its health status is shown all the same."""
        if self.service_token is None:
            return None
        try:
            return await describe(channel, self.service_token(), self.timeout)
        except grpc.aio.AioRpcError:
            return None

    async def _detail(self, full_name: str, address: str) -> dict[str, Any]:
        channel = self.pool.channel(address)
        (server, named, *parts), detail = await asyncio.gather(
            asyncio.gather(
                check(channel, "", self.timeout),
                check(channel, full_name, self.timeout),
                *(check(channel, f"{full_name}/{part}", self.timeout) for part in COMPONENTS),
            ),
            self._describe(channel),
        )
        overall = server.status if server.status != SERVING else named.status
        body: dict[str, Any] = {
            "status": overall,
            "service": full_name,
            "address": address,
            "serverStatus": server.status,
            "serviceStatus": named.status,
            "latencyMs": server.latency_ms,
        }
        components = {
            part: result.status
            for part, result in zip(COMPONENTS, parts, strict=True)
            if result.status not in (SERVICE_UNKNOWN, UNREACHABLE)
        }
        if components:
            body["components"] = components
        if detail is not None:
            body.update(detail)
        errors = [result.error for result in (server, named) if result.error]
        if errors:
            body["error"] = "; ".join(errors)
        return body
