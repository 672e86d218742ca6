"""The stack of docker-compose.yml run for real from the built images (wired with plain
`docker run` on one network, since no compose plugin need be installed): migrate, the
four services healthy by their probes, the README's newcomer steps through the gateway,
and `probe` of each service from the host."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.docker.images import (
    APP_IMAGE,
    POSTGRES_IMAGE,
    VALKEY_IMAGE,
    build_app,
    build_stores,
    docker,
    engine_problem,
)
from tripsage_core.service_registry import SERVICES

pytestmark = pytest.mark.docker


def _env() -> list[str]:
    values = {
        "ENVIRONMENT": "production",
        "LOG_FORMAT": "json",
        "SECRET_KEY": secrets.token_urlsafe(32),
        "DATABASE_JWT_SECRET": secrets.token_urlsafe(32),
        "POSTGRES_URL": "postgresql://tripsage:tripsage@postgres:5432/tripsage",
        "REDIS_URL": "redis://valkey:6379/0",
        "PASSWORD_RESET_ENABLED": "false",
        **{f"{s.name.upper()}_SERVICE_ADDR": f"{s.name}:{s.default_port}" for s in SERVICES},
    }
    return [word for name, value in values.items() for word in ("-e", f"{name}={value}")]


def _wait(what: str, ready: object, attempts: int = 120) -> None:
    for _ in range(attempts):
        if ready():  # type: ignore[operator]
            return
        time.sleep(1)
    raise AssertionError(f"{what} did not become ready")


def _health(container: str) -> str:
    return docker("inspect", "-f", "{{.State.Health.Status}}", container).stdout.strip()


@pytest.fixture(scope="module")
def stack() -> Iterator[dict[str, str]]:
    problem = engine_problem()
    if problem:
        pytest.skip(problem)
    build_app()
    build_stores()
    tag = secrets.token_hex(3)
    network = f"tripsage-test-{tag}"
    containers: list[str] = []
    assert docker("network", "create", network).returncode == 0

    def run(name: str, *args: str) -> str:
        started = docker(
            "run",
            "-d",
            "--name",
            f"{name}-{tag}",
            "--network",
            network,
            "--network-alias",
            name,
            *args,
        )
        assert started.returncode == 0, started.stderr
        containers.append(f"{name}-{tag}")
        return f"{name}-{tag}"

    env = _env()
    app = ["--read-only", "--tmpfs", "/tmp", *env]
    try:
        pg = run(
            "postgres",
            "-e",
            "POSTGRES_USER=tripsage",
            "-e",
            "POSTGRES_PASSWORD=tripsage",
            "-e",
            "POSTGRES_DB=tripsage",
            POSTGRES_IMAGE,
        )
        run("valkey", VALKEY_IMAGE)
        _wait(
            "postgres",
            lambda: (
                docker(
                    "exec", pg, "pg_isready", "-h", "127.0.0.1", "-U", "tripsage", "-d", "tripsage"
                ).returncode
                == 0
            ),
        )
        migrate = run("migrate", *app, APP_IMAGE, "migrate")
        exit_code = docker("wait", migrate).stdout.strip()
        assert exit_code == "0", docker("logs", migrate).stderr[-3000:]
        ports: dict[str, str] = {}
        for service in SERVICES:
            name = run(
                service.name,
                *app,
                "-e",
                f"PORT={service.default_port}",
                "-p",
                f"127.0.0.1::{service.default_port}",
                APP_IMAGE,
                service.module,
            )
            ports[service.name] = name
        for service in SERVICES:
            _wait(f"{service.name} healthy", lambda c=ports[service.name]: _health(c) == "healthy")
        gateway = run("gateway", *app, "-e", "PORT=8000", "-p", "127.0.0.1::8000", APP_IMAGE)
        _wait("gateway healthy", lambda: _health(gateway) == "healthy")
        ports["gateway"] = gateway
        published = {
            name: docker("port", container).stdout.split("->")[-1].strip().splitlines()[0]
            for name, container in ports.items()
        }
        yield published
    finally:
        for container in containers:
            docker("rm", "-f", "-v", container)
        docker("network", "rm", network)


def test_the_newcomer_steps_work_through_the_gateway(stack: dict[str, str]) -> None:
    with httpx.Client(base_url=f"http://{stack['gateway']}", timeout=30) as http:
        health = http.get("/api/health")
        assert health.status_code == 200, health.text
        ana = {
            "email": f"ana-{secrets.token_hex(4)}@example.com",
            "password": "correct horse battery",
        }
        assert (
            http.post("/api/v1/auth/register", json={**ana, "fullName": "Ana"}).status_code == 200
        )
        token = http.post("/api/v1/auth/login", json=ana).json()["accessToken"]
        user = {"authorization": f"Bearer {token}"}
        created = http.post(
            "/api/v1/trips",
            headers=user,
            json={"title": "Lisbon", "startDate": "2027-05-01", "endDate": "2027-05-05"},
        )
        assert created.status_code in (200, 201), created.text
        listed = http.get("/api/v1/trips", headers=user)
        assert listed.status_code == 200, listed.text
        assert "Lisbon" in json.dumps(listed.json())


@pytest.mark.parametrize("service", SERVICES, ids=lambda service: service.name)
def test_each_service_answers_probe_from_the_host(stack: dict[str, str], service: object) -> None:
    name = service.name  # type: ignore[attr-defined]
    result = subprocess.run(
        [sys.executable, "-m", "tripsage.cli", "probe", stack[name], name],
        capture_output=True,
        text=True,
        timeout=60,
        env={
            "ENVIRONMENT": "testing",
            "TRIPSAGE_DATA_DIR": "/tmp/tripsage-probe",
            "PATH": "/usr/bin:/bin",
        },
    )
    assert result.returncode == 0, result.stderr
    assert "SERVING" in result.stdout
