"""docker-compose.yml itself brought up with compose (Debian's docker-compose 1.29, or the
v2 plugin where it is installed) from the images built here: the README's steps
(`cp .env.example .env`, set the two secrets, `up`), every healthcheck, the newcomer steps
over HTTP, gRPC health of each service by its compose name, then `down -v`."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.docker.images import (
    APP_IMAGE,
    DOCKER,
    POSTGRES_IMAGE,
    ROOT,
    VALKEY_IMAGE,
    build_app,
    build_stores,
    docker,
    engine_problem,
)
from tripsage_core.embedded import free_port
from tripsage_core.service_registry import SERVICES

pytestmark = pytest.mark.docker


def compose_command() -> list[str] | None:
    """docker-compose (v1, Debian's package) or `docker compose` (v2), if either runs."""
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    plugin = subprocess.run(
        [DOCKER, "compose", "version"], capture_output=True, text=True, check=False
    )
    return [DOCKER, "compose"] if plugin.returncode == 0 else None


@dataclass
class Stack:
    compose: list[str]
    directory: Path
    env: dict[str, str]
    gateway: str

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.compose, *args],
            cwd=self.directory,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def diagnosis(self) -> str:
        return self.run("ps").stdout + self.run("logs", "--tail=30").stdout[-6000:]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    problem = engine_problem()
    compose = compose_command()
    if problem or compose is None:
        pytest.skip(problem or "no docker-compose (apt-get install docker-compose) or plugin")
    build_app()
    build_stores()
    # The compose file as committed, in a directory of its own with the README's .env
    # (a developer's own .env at the root stays untouched).
    directory = tmp_path_factory.mktemp("compose")
    shutil.copy(ROOT / "docker-compose.yml", directory / "docker-compose.yml")
    env_file = (ROOT / ".env.example").read_text()
    env_file += f"\nSECRET_KEY={secrets.token_urlsafe(32)}\n"
    env_file += f"DATABASE_JWT_SECRET={secrets.token_urlsafe(32)}\n"
    (directory / ".env").write_text(env_file)
    gateway = f"127.0.0.1:{free_port()}"
    env = {
        **os.environ,
        "COMPOSE_PROJECT_NAME": f"tripsage-test-{secrets.token_hex(3)}",
        # v1 cannot pass BuildKit secrets: the images are built above, compose only runs them.
        "TRIPSAGE_IMAGE": APP_IMAGE,
        "POSTGRES_IMAGE": POSTGRES_IMAGE,
        "REDIS_IMAGE": VALKEY_IMAGE,
        "GATEWAY_PORT": gateway,  # loopback only
    }
    running = Stack(compose, directory, env, gateway)
    try:
        # `up` returns once the gateway is created, which waits for the migration to
        # finish and every service's healthcheck to pass.
        up = running.run("up", "-d", "--no-build", timeout=420)
        assert up.returncode == 0, up.stderr[-3000:] + running.diagnosis()
        gateway_id = running.run("ps", "-q", "gateway").stdout.strip()
        for _ in range(120):
            status = docker("inspect", "-f", "{{.State.Health.Status}}", gateway_id).stdout
            if status.strip() == "healthy":
                break
            time.sleep(1)
        else:
            raise AssertionError("the gateway did not become healthy\n" + running.diagnosis())
        yield running
    finally:
        running.run("down", "-v", "--remove-orphans", timeout=180)


def test_every_container_is_healthy_and_the_migration_finished(stack: Stack) -> None:
    for name in (*(s.name for s in SERVICES), "gateway", "postgres", "valkey"):
        container = stack.run("ps", "-q", name).stdout.strip()
        assert container, name
        status = docker("inspect", "-f", "{{.State.Health.Status}}", container).stdout.strip()
        assert status == "healthy", f"{name}: {status}"
    migrate = stack.run("ps", "-q", "migrate").stdout.strip()
    state = docker("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", migrate).stdout
    assert state.split() == ["exited", "0"]


def test_the_readme_newcomer_steps_over_http(stack: Stack) -> None:
    with httpx.Client(base_url=f"http://{stack.gateway}", timeout=30) as http:
        assert http.get("/api/health").status_code == 200
        ana = {
            "email": f"ana-{secrets.token_hex(4)}@example.com",
            "password": "correct horse battery",
        }
        registered = http.post("/api/v1/auth/register", json={**ana, "fullName": "Ana"})
        assert registered.status_code == 200, registered.text
        login = http.post("/api/v1/auth/login", json=ana)
        assert login.status_code == 200, login.text
        user = {"authorization": f"Bearer {login.json()['accessToken']}"}
        created = http.post(
            "/api/v1/trips",
            headers=user,
            json={"title": "Lisbon", "startDate": "2027-05-01", "endDate": "2027-05-05"},
        )
        assert created.status_code == 201, created.text
        trip = created.json()["trip"]["id"]
        read = http.get(f"/api/v1/trips/{trip}", headers=user)
        assert read.status_code == 200, read.text
        assert read.json()["trip"]["title"] == "Lisbon"
        listed = http.get("/api/v1/trips", headers=user)
        assert listed.status_code == 200, listed.text
        assert "Lisbon" in json.dumps(listed.json())


@pytest.mark.parametrize("service", SERVICES, ids=lambda service: service.name)
def test_grpc_health_of_each_service_by_its_compose_name(stack: Stack, service: object) -> None:
    """From the gateway's container, as its calls go: `tripsage probe NAME:PORT NAME`."""
    name, port = service.name, service.default_port  # type: ignore[attr-defined]
    probed = stack.run("exec", "-T", "gateway", "tripsage", "probe", f"{name}:{port}", name)
    assert probed.returncode == 0, probed.stdout + probed.stderr
    assert probed.stdout.strip() == f"{name} at {name}:{port}: SERVING"
