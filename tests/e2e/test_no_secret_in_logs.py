"""No secret reaches a log: a realistic session against `tripsage up`, then every log
file under the data directory and the processes' captured stdout are searched for every
password, token and key the session used or received."""

from __future__ import annotations

import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_newcomer import Launcher
from tests.support.otlp_receiver import OtlpReceiver

pytestmark = pytest.mark.e2e

SECRET_KEY = "e2e-secret-key-0123456789abcdefghijklmnopqrstuv"
JWT_SECRET = "e2e-jwt-secret-0123456789abcdefghijklmnopqrstuv"
OPERATOR_TOKEN = "e2e-operator-token-0123456789abcdefghijklmnop"
PROVIDER_KEY = "sk-e2e-provider-key-0123456789abcdefghij"


class SecretLauncher(Launcher):
    def env(self) -> dict[str, str]:
        return {
            **super().env(),
            "SECRET_KEY": SECRET_KEY,
            "DATABASE_JWT_SECRET": JWT_SECRET,
            "OPERATOR_TOKEN": OPERATOR_TOKEN,
            "LOG_LEVEL": "DEBUG",
        }


@pytest.fixture
def launcher() -> Iterator[SecretLauncher]:
    # Not under pytest's private basetemp: the embedded PostgreSQL runs as another
    # system user when tests run as root (as tests/conftest.py's backing_dir).
    root = Path(tempfile.mkdtemp(prefix="tripsage-e2e-"))
    root.chmod(0o755)
    with OtlpReceiver() as otlp:
        running = SecretLauncher(root / "data", otlp.endpoint)
        yield running
        if running.process is not None and running.process.poll() is None:
            running.process.kill()
    shutil.rmtree(root, ignore_errors=True)


def test_a_full_session_leaves_no_secret_in_any_log(launcher: SecretLauncher) -> None:
    launcher.start()
    secrets = [SECRET_KEY, JWT_SECRET, OPERATOR_TOKEN, PROVIDER_KEY]
    ana = {"email": "ana@example.com", "password": "correct horse battery staple"}
    ben = {"email": "ben@example.com", "password": "another long passphrase 7"}
    secrets += [ana["password"], ben["password"], "wrong passphrase guess 1"]
    with httpx.Client(base_url=launcher.url, timeout=30) as http:
        for person in (ana, ben):
            made = http.post("/api/v1/auth/register", json={**person, "fullName": "A"})
            assert made.status_code == 200, made.text
            secrets += [made.json()["accessToken"], made.json()["refreshToken"]]
        wrong = http.post(
            "/api/v1/auth/login", json={"email": ana["email"], "password": secrets[-5]}
        )
        assert wrong.status_code == 401
        signed_in = http.post("/api/v1/auth/login", json=ana).json()
        secrets += [signed_in["accessToken"], signed_in["refreshToken"]]
        headers = {"authorization": f"Bearer {signed_in['accessToken']}"}
        refreshed = http.post(
            "/api/v1/auth/refresh", json={"refreshToken": signed_in["refreshToken"]}
        )
        assert refreshed.is_success, refreshed.text
        secrets += [refreshed.json()["accessToken"], refreshed.json()["refreshToken"]]
        key = http.post("/api/v1/api-keys", json={"name": "ci"}, headers=headers)
        assert key.is_success, key.text
        secrets.append(key.json()["secret"])
        used = http.get("/api/v1/trips", headers={"x-api-key": key.json()["secret"]})
        assert used.is_success, used.text
        stored = http.put(
            "/api/v1/users/me/provider-keys/PROVIDER_SERVICE_OPENAI",
            json={"apiKey": PROVIDER_KEY},
            headers=headers,
        )
        assert stored.is_success, stored.text
        trip = http.post("/api/v1/trips", json={"title": "Porto"}, headers=headers)
        assert trip.status_code == 201, trip.text
        invited = http.post(
            f"/api/v1/trips/{trip.json()['trip']['id']}/collaborators",
            json={"email": ben["email"], "role": "COLLABORATOR_ROLE_VIEW"},
            headers=headers,
        )
        assert invited.is_success, invited.text
        bad = http.get("/api/v1/trips", headers={"authorization": f"Bearer {secrets[-3]}x"})
        assert bad.status_code == 401
    assert launcher.stop(signal.SIGINT) == 0

    logs = sorted((launcher.data_dir / "logs").iterdir())
    assert {"gateway.log", "auth.log", "trips.log"} <= {path.name for path in logs}
    texts = {path.name: path.read_text(errors="replace") for path in logs}
    texts["stdout"] = launcher.log.read_text(errors="replace")
    assert all(len(text) > 1000 for text in texts.values())  # so the search can fail
    assert "sign_in_failed" in texts["auth.log"]
    for name, text in texts.items():
        leaked = [secret[:12] for secret in secrets if secret in text]
        assert leaked == [], f"{name} holds {leaked}"
