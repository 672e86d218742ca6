"""The newcomer's steps from the README, against `tripsage up` run as a real command."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import psutil
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.support.otlp_receiver import OtlpReceiver
from tripsage_core.embedded import free_port
from tripsage_core.service_registry import SERVICE_NAMES

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
SERVICES = SERVICE_NAMES


class Launcher:
    def __init__(self, data_dir: Path, otlp_endpoint: str) -> None:
        self.data_dir = data_dir
        self.otlp_endpoint = otlp_endpoint
        self.ports = {name: free_port() for name in (*SERVICES, "gateway")}
        self.process: subprocess.Popen[str] | None = None
        self.log = data_dir.parent / "launcher.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports['gateway']}"

    def env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in {"POSTGRES_URL", "REDIS_URL", "DATABASE_JWT_SECRET", "SECRET_KEY", "PORT"}
        }
        env.update(
            PORT=str(self.ports["gateway"]),
            ENVIRONMENT="development",
            LOG_FORMAT="json",
            OTEL_EXPORTER_OTLP_ENDPOINT=self.otlp_endpoint,
        )
        for name in SERVICES:
            env[f"{name.upper()}_SERVICE_ADDR"] = f"localhost:{self.ports[name]}"
        return env

    def start(self) -> None:
        handle = self.log.open("a")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tripsage.cli", "up", "--data-dir", str(self.data_dir)],
            cwd=REPO,
            env=self.env(),
            stdout=handle,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            try:
                if httpx.get(f"{self.url}/api/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise TimeoutError(self.log.read_text()[-3000:])

    def stop(self, sig: int = signal.SIGINT) -> int:
        assert self.process is not None
        self.process.send_signal(sig)
        return self.process.wait(timeout=90)

    def leftovers(self) -> list[str]:
        """Processes still running from this suite: by data dir or by one of its ports."""
        found = []
        for proc in psutil.process_iter(["pid", "cmdline"]):
            cmdline = " ".join(proc.info["cmdline"] or [])
            if str(self.data_dir) in cmdline:
                found.append(cmdline)
        ports = set(self.ports.values())
        for conn in psutil.net_connections("tcp"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port in ports:
                found.append(f"listener on {conn.laddr.port}")
        return found


@pytest.fixture
def otlp() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as receiver:
        yield receiver


@pytest.fixture
def launcher(tmp_path: Path, otlp: OtlpReceiver) -> Iterator[Launcher]:
    running = Launcher(tmp_path / "data", otlp.endpoint)
    yield running
    if running.process is not None and running.process.poll() is None:
        running.process.kill()


def _health(port: int) -> int:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(), timeout=5
        )
    return reply.status


def test_the_readme_steps_survive_a_restart(launcher: Launcher, otlp: OtlpReceiver) -> None:
    launcher.start()
    health = httpx.get(f"{launcher.url}/api/health").json()
    assert health["services"] == dict.fromkeys(SERVICES, "SERVING")
    for name in SERVICES:
        assert _health(launcher.ports[name]) == health_pb2.HealthCheckResponse.SERVING

    with httpx.Client(base_url=launcher.url, timeout=15) as http:
        ana = {"email": "ana@example.com", "password": "correct horse battery"}
        assert (
            http.post("/api/v1/auth/register", json={**ana, "fullName": "Ana"}).status_code == 200
        )
        token = http.post("/api/v1/auth/login", json=ana).json()["accessToken"]
        headers = {"authorization": f"Bearer {token}"}
        created = http.post(
            "/api/v1/trips",
            headers=headers,
            json={"title": "Lisbon", "startDate": "2027-05-01", "endDate": "2027-05-05"},
        )
        assert created.status_code == 201, created.text
        trip_id = created.json()["trip"]["id"]
        listed = http.get("/api/v1/trips", headers={**headers, "x-request-id": "e2e-list-1"})
        assert [t["id"] for t in listed.json()["trips"]] == [trip_id]
        assert listed.headers["x-request-id"] == "e2e-list-1"
        ben = {"email": "ben@example.com", "password": "another long passphrase"}
        ben_token = http.post("/api/v1/auth/register", json=ben).json()["accessToken"]
        ben_trips = http.get("/api/v1/trips", headers={"authorization": f"Bearer {ben_token}"})
        assert ben_trips.json()["trips"] == []

    assert launcher.stop(signal.SIGINT) == 0
    assert launcher.leftovers() == []
    # One request id, logged by the gateway and by the service that answered.
    logged_by = set()
    for line in launcher.log.read_text().splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            if entry.get("request_id") == "e2e-list-1":
                logged_by.add(entry["service"])
    assert logged_by == {"gateway", "trips"}
    # The same records in each process's own file under the data directory.
    logs = launcher.data_dir / "logs"
    assert {"launcher.log", "gateway.log", "auth.log", "trips.log"} <= {
        path.name for path in logs.iterdir()
    }
    found = subprocess.run(
        [sys.executable, "-m", "tripsage.cli", "search-logs", "--query", "e2e-list-1"],
        env={**os.environ, "TRIPSAGE_DATA_DIR": str(launcher.data_dir), "ENVIRONMENT": "testing"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert found.returncode == 0, found.stderr
    assert " gateway " in found.stdout
    assert " trips " in found.stdout
    # With an OTLP endpoint set, one trace follows each request across processes.
    traces = otlp.services_by_trace().values()
    assert any({"tripsage-gateway", "tripsage-trips"} <= names for names in traces)
    assert any({"tripsage-gateway", "tripsage-auth"} <= names for names in traces)

    launcher.start()
    with httpx.Client(base_url=launcher.url, timeout=15) as http:
        token = http.post("/api/v1/auth/login", json=ana).json()["accessToken"]
        listed = http.get("/api/v1/trips", headers={"authorization": f"Bearer {token}"}).json()
        assert [t["title"] for t in listed["trips"]] == ["Lisbon"]
    assert launcher.stop(signal.SIGTERM) == 0
    assert launcher.leftovers() == []
