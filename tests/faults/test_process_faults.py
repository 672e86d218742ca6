"""Faults survived by the real launcher (issue 15): a service killed with SIGKILL while the
suite serves. Its routes answer 503 at once, the other routes keep working, the launcher
starts it again with backoff, and its routes work again without anything else restarting."""

from __future__ import annotations

import datetime as dt
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from tests.e2e.test_newcomer import Launcher
from tests.support.otlp_receiver import OtlpReceiver

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

# A refused connection must give 503 without waiting for a deadline; this bound is far
# above the few milliseconds it takes, so that a loaded CI machine does not fail it.
ANSWER_BOUND_SECONDS = 3.0


@pytest.fixture
def launcher(readable_tmp_dir: Path) -> Iterator[Launcher]:
    with OtlpReceiver() as otlp:
        running = Launcher(readable_tmp_dir / "data", otlp.endpoint)
        yield running
        if running.process is not None and running.process.poll() is None:
            running.process.kill()


def _children(launcher: Launcher) -> dict[str, int]:
    """The launcher's processes by name (services.trips -> trips, gateway -> gateway)."""
    assert launcher.process is not None
    found = {}
    for child in psutil.Process(launcher.process.pid).children():
        cmdline = child.cmdline()
        if "-m" in cmdline:
            module = cmdline[cmdline.index("-m") + 1]
            found[module.removeprefix("services.")] = child.pid
    return found


def test_a_killed_service_answers_503_then_comes_back_alone(launcher: Launcher) -> None:
    launcher.start()
    with httpx.Client(base_url=launcher.url, timeout=10) as http:
        person = {"email": "ana@example.com", "password": "correct horse battery staple"}
        token = http.post("/api/v1/auth/register", json={**person, "fullName": "Ana"}).json()[
            "accessToken"
        ]
        headers = {"authorization": f"Bearer {token}"}
        trip = http.post("/api/v1/trips", json={"title": "Porto"}, headers=headers)
        assert trip.status_code == 201, trip.text
        trip_path = f"/api/v1/trips/{trip.json()['trip']['id']}"
        departure = (dt.date.today() + dt.timedelta(days=30)).isoformat()
        search = {"slices": [{"origin": "LIS", "destination": "OPO", "departureDate": departure}]}
        before = _children(launcher)
        assert set(before) == {"auth", "trips", "travel", "assistant", "gateway"}

        os.kill(before["trips"], signal.SIGKILL)
        psutil.Process(before["trips"]).wait(timeout=10)
        started = time.monotonic()
        down = http.get(trip_path, headers=headers, timeout=ANSWER_BOUND_SECONDS)
        took = time.monotonic() - started
        assert down.status_code == 503, down.text
        assert down.json()["error"]["status"] == "UNAVAILABLE"
        # Routes of the other services do not notice.
        assert http.get("/api/v1/users/me", headers=headers).status_code == 200
        flights = http.post("/api/v1/flights:search", json=search, headers=headers)
        assert flights.status_code == 200, flights.text

        deadline = time.monotonic() + 60
        while (back := http.get(trip_path, headers=headers)).status_code == 503:
            assert time.monotonic() < deadline, "trips was not restarted"
            time.sleep(0.2)
        assert back.status_code == 200, back.text
        assert back.json()["trip"]["title"] == "Porto"

        after = _children(launcher)
        assert after["trips"] != before["trips"]
        assert {n: p for n, p in after.items() if n != "trips"} == {
            n: p for n, p in before.items() if n != "trips"
        }
    assert launcher.stop(signal.SIGINT) == 0
    log = launcher.log.read_text()
    assert "trips exited with status -9; restarting it in 0.5 s (restart 1 in a row)" in log
    assert took < ANSWER_BOUND_SECONDS, f"the first call after the kill took {took:.3f} s"
