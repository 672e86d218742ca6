"""TLS between the processes: servers, service-to-service channels, gateway and health.

A CA made in the test (trustme) signs the certificate every server presents.
The whole path runs over TLS: REST through the gateway to auth and trips, trips
resolving an API key through auth, the gateway's health checks. Plain-text
clients and clients that do not trust the CA get nowhere; with
GRPC_TLS_CLIENT_AUTH a client without a certificate from the CA is refused too.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import httpx
import pytest
import pytest_asyncio
import trustme
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.support.accounts import PASSWORD, unique_email
from tests.support.auth_suite import start_suite
from tests.support.suite import RunningSuite
from tripsage_core.grpc_kit.tls import open_channel

pytestmark = pytest.mark.database


def _write_pki(directory: Path) -> tuple[trustme.CA, dict[str, Path]]:
    ca = trustme.CA()
    issued = ca.issue_cert("127.0.0.1", "localhost")
    files = {
        "grpc_tls_ca_file": directory / "ca.pem",
        "grpc_tls_cert_file": directory / "cert.pem",
        "grpc_tls_key_file": directory / "key.pem",
    }
    ca.cert_pem.write_to_path(str(files["grpc_tls_ca_file"]))
    issued.cert_chain_pems[0].write_to_path(str(files["grpc_tls_cert_file"]))
    issued.private_key_pem.write_to_path(str(files["grpc_tls_key_file"]))
    return ca, files


async def _check(address: str, credentials: grpc.ChannelCredentials | None) -> int:
    async with open_channel(address, credentials) as channel:
        reply = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(), timeout=3
        )
    return reply.status


async def _use_the_suite_over_rest(suite: RunningSuite) -> None:
    async with httpx.AsyncClient(base_url=suite.gateway_url, timeout=30) as http:
        assert (await http.get("/api/health")).json()["services"]["auth"] == "SERVING"
        registered = await http.post(
            "/api/v1/auth/register",
            json={"email": unique_email("tls"), "password": PASSWORD},
        )
        assert registered.status_code == 200, registered.text
        user = {"authorization": f"Bearer {registered.json()['accessToken']}"}
        created = await http.post("/api/v1/api-keys", json={"name": "tls"}, headers=user)
        assert created.status_code == 201, created.text
        # trips resolves the key through auth: service to service, over TLS.
        listed = await http.get("/api/v1/trips", headers={"x-api-key": created.json()["secret"]})
        assert listed.status_code == 200, listed.text


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def tls_suite(
    database_dsn: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[RunningSuite, trustme.CA]]:
    ca, files = _write_pki(tmp_path_factory.mktemp("pki"))
    running = await start_suite(
        database_dsn, redis_url, tmp_path_factory.mktemp("data"), ("auth", "trips"), **files
    )
    yield running, ca
    await running.stop()


async def test_the_suite_runs_over_tls(tls_suite: tuple[RunningSuite, trustme.CA]) -> None:
    suite, ca = tls_suite
    await _use_the_suite_over_rest(suite)
    trusting = grpc.ssl_channel_credentials(ca.cert_pem.bytes())
    assert await _check(suite.address("auth"), trusting) == health_pb2.HealthCheckResponse.SERVING
    # Plain text, or TLS without trusting the CA: refused.
    for credentials in (None, grpc.ssl_channel_credentials(trustme.CA().cert_pem.bytes())):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await _check(suite.address("auth"), credentials)
        assert refused.value.code() is grpc.StatusCode.UNAVAILABLE


async def test_the_probe_command_checks_health_over_tls(
    tls_suite: tuple[RunningSuite, trustme.CA], tmp_path: Path
) -> None:
    suite, _ = tls_suite
    settings = suite.settings
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("GRPC_", "PORT"))},
        "ENVIRONMENT": "testing",
        "TRIPSAGE_DATA_DIR": str(tmp_path),
        "AUTH_SERVICE_ADDR": suite.address("auth"),
        "GRPC_TLS_CA_FILE": str(settings.grpc_tls_ca_file),
        "GRPC_TLS_CERT_FILE": str(settings.grpc_tls_cert_file),
        "GRPC_TLS_KEY_FILE": str(settings.grpc_tls_key_file),
    }
    command = [sys.executable, "-m", "tripsage.cli", "health-check", "auth"]
    result = await asyncio.to_thread(
        subprocess.run, command, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "SERVING" in result.stdout
    # Without the TLS settings the same probe fails: the server speaks only TLS.
    plain = {k: v for k, v in env.items() if not k.startswith("GRPC_TLS")}
    result = await asyncio.to_thread(
        subprocess.run, command, env=plain, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1


async def test_mutual_tls_refuses_clients_without_a_certificate(
    database_dsn: str, redis_url: str, tmp_path: Path
) -> None:
    ca, files = _write_pki(tmp_path)
    suite = await start_suite(
        database_dsn,
        redis_url,
        tmp_path / "data",
        ("auth", "trips"),
        grpc_tls_client_auth=True,
        **files,
    )
    try:
        await _use_the_suite_over_rest(suite)
        no_certificate = grpc.ssl_channel_credentials(ca.cert_pem.bytes())
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await _check(suite.address("auth"), no_certificate)
        assert refused.value.code() is grpc.StatusCode.UNAVAILABLE
        stranger = trustme.CA().issue_cert("127.0.0.1")
        foreign_certificate = grpc.ssl_channel_credentials(
            ca.cert_pem.bytes(),
            private_key=stranger.private_key_pem.bytes(),
            certificate_chain=stranger.cert_chain_pems[0].bytes(),
        )
        with pytest.raises(grpc.aio.AioRpcError):
            await _check(suite.address("auth"), foreign_certificate)
    finally:
        await suite.stop()
