"""No secret reaches a log: a realistic session against `tripsage up` (sign-ups, sign-ins,
refreshes, API and provider keys, trips and invitations, a chat turn, a password reset and an
email verification by real email, a password change), then every log file under the data
directory and the processes' captured stdout are searched for every password, token and key
the session used or received."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_newcomer import Launcher
from tests.support.otlp_receiver import OtlpReceiver
from tests.support.smtp_inbox import Inbox, smtp_inbox

pytestmark = pytest.mark.e2e

SECRET_KEY = "e2e-secret-key-0123456789abcdefghijklmnopqrstuv"
JWT_SECRET = "e2e-jwt-secret-0123456789abcdefghijklmnopqrstuv"
OPERATOR_TOKEN = "e2e-operator-token-0123456789abcdefghijklmnop"
PROVIDER_KEY = "sk-e2e-provider-key-0123456789abcdefghij"
RESET_URL = "https://app.example.com/reset"
VERIFY_URL = "https://app.example.com/verify"


class SecretLauncher(Launcher):
    def __init__(self, data_dir: Path, otlp_endpoint: str, inbox: Inbox) -> None:
        super().__init__(data_dir, otlp_endpoint)
        self.inbox = inbox

    def env(self) -> dict[str, str]:
        return {
            **super().env(),
            "SECRET_KEY": SECRET_KEY,
            "DATABASE_JWT_SECRET": JWT_SECRET,
            "OPERATOR_TOKEN": OPERATOR_TOKEN,
            "LOG_LEVEL": "DEBUG",
            # Links go out by email, as in production: the development notifier logs them
            # by design, which this test would (rightly) report.
            "NOTIFIER_URL": self.inbox.url,
            "PASSWORD_RESET_URL": RESET_URL,
            "EMAIL_VERIFICATION_URL": VERIFY_URL,
        }


@pytest.fixture
def launcher(readable_tmp_dir: Path) -> Iterator[SecretLauncher]:
    with OtlpReceiver() as otlp, smtp_inbox() as inbox:
        running = SecretLauncher(readable_tmp_dir / "data", otlp.endpoint, inbox)
        yield running
        if running.process is not None and running.process.poll() is None:
            running.process.kill()


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
        secrets += _chat_turn(http, ben)
        secrets += _email_flows(http, launcher.inbox, ana)
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


def _chat_turn(http: httpx.Client, person: dict[str, str]) -> list[str]:
    """A conversation and one answered message with the (offline) assistant."""
    signed_in = http.post("/api/v1/auth/login", json=person).json()
    headers = {"authorization": f"Bearer {signed_in['accessToken']}"}
    made = http.post("/api/v1/conversations", json={"title": "Porto"}, headers=headers)
    assert made.is_success, made.text
    conversation = made.json()["conversation"]["id"]
    answered = http.post(
        f"/api/v1/conversations/{conversation}/messages",
        json={"content": "Find me a flight from LIS to OPO on 2027-05-01"},
        headers=headers,
    )
    assert answered.is_success, answered.text
    assert answered.json()["message"]["content"]
    return [signed_in["accessToken"], signed_in["refreshToken"]]


def _email_flows(http: httpx.Client, inbox: Inbox, person: dict[str, str]) -> list[str]:
    """Email verification and a password reset by real email, then a password change; the
    secrets they used (link tokens, new passwords, the tokens they were used with)."""
    signed_in = http.post("/api/v1/auth/login", json=person).json()
    headers = {"authorization": f"Bearer {signed_in['accessToken']}"}
    asked = http.post("/api/v1/auth/verify-email:request", json={}, headers=headers)
    assert asked.is_success, asked.text
    # The sign-up sent one too: every token that went out is a secret, the newest is used.
    mails = inbox.to(person["email"], "Verify")
    assert len(mails) == 2
    verify_tokens = [Inbox.link_token(mail, VERIFY_URL) for mail in mails]
    verify_token = verify_tokens[-1]
    verified = http.post("/api/v1/auth/verify-email", json={"verificationToken": verify_token})
    assert verified.is_success, verified.text

    changed_to = "a changed passphrase of mine 9"
    changed = http.post(
        "/api/v1/auth/password:change",
        json={"currentPassword": person["password"], "newPassword": changed_to},
        headers=headers,
    )
    assert changed.is_success, changed.text

    assert http.post(
        "/api/v1/auth/password:requestReset", json={"email": person["email"]}
    ).is_success
    (reset_mail,) = inbox.to(person["email"], "password")
    reset_token = Inbox.link_token(reset_mail, RESET_URL)
    reset_to = "a reset passphrase at last 11"
    reset = http.post(
        "/api/v1/auth/password:reset", json={"resetToken": reset_token, "newPassword": reset_to}
    )
    assert reset.status_code == 200, reset.text
    again = http.post("/api/v1/auth/login", json={"email": person["email"], "password": reset_to})
    assert again.is_success, again.text
    return [
        signed_in["accessToken"],
        signed_in["refreshToken"],
        *verify_tokens,
        changed_to,
        reset_token,
        reset_to,
        again.json()["accessToken"],
        again.json()["refreshToken"],
    ]
