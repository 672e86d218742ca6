"""Schemathesis over every REST operation of the gateway, authenticated as a real user
who has data (trips, items, an invitation, an API key): no answer may be a 5xx.

Every operation is fuzzed, the assistant's included (chat turns answer with the offline
assistant).
Schemathesis runs as its own process (its client is synchronous; the suite runs on
this test's event loop) and writes a JUnit report, which the assertion reads.
"""

from __future__ import annotations

import asyncio
import os
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest

from tests.support.accounts import Account, register
from tests.support.suite import RunningSuite

pytestmark = [pytest.mark.database, pytest.mark.fuzz]

# More for a longer hunt: FUZZ_EXAMPLES=100 uv run pytest -m fuzz; FUZZ_ONLY narrows the
# operations by a path regex.
EXAMPLES_PER_OPERATION = int(os.environ.get("FUZZ_EXAMPLES", "6"))


async def _give_data(http: httpx.AsyncClient, owner: Account, friend: Account) -> None:
    created = await http.post(
        "/api/v1/trips",
        headers=owner.headers,
        json={
            "title": "Lisbon",
            "startDate": "2027-05-01",
            "endDate": "2027-05-05",
            "destinations": [{"name": "Lisbon"}],
        },
    )
    assert created.status_code == 201, created.text
    trip_id = created.json()["trip"]["id"]
    item = await http.post(
        f"/api/v1/trips/{trip_id}/items",
        headers=owner.headers,
        json={
            "kind": "ITINERARY_ITEM_KIND_ACTIVITY",
            "title": "Tram 28",
            "startTime": "2027-05-02T09:00:00Z",
            "timeZone": "Europe/Lisbon",
        },
    )
    assert item.status_code == 201, item.text
    invited = await http.post(
        f"/api/v1/trips/{trip_id}/collaborators",
        headers=owner.headers,
        json={"email": friend.email, "role": "COLLABORATOR_ROLE_VIEW"},
    )
    assert invited.status_code == 200, invited.text
    key = await http.post("/api/v1/api-keys", headers=owner.headers, json={"name": "ci"})
    assert key.status_code == 201, key.text


def _server_errors(report: Path) -> list[str]:
    found = []
    for case in ET.parse(report).getroot().iter("testcase"):
        for problem in [*case.iter("failure"), *case.iter("error")]:
            text = (problem.get("message") or "") + (problem.text or "")
            found.append(f"{case.get('name')}: {text[:600]}")
    return found


async def test_no_operation_answers_5xx(
    suite: RunningSuite, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    owner = await register(suite.address("auth"), "fuzz-owner")
    friend = await register(suite.address("auth"), "fuzz-friend")
    await _give_data(http, owner, friend)
    report = tmp_path / "junit.xml"
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{suite.gateway_url}/api/openapi.json",
        "--checks",
        "not_a_server_error",
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        str(EXAMPLES_PER_OPERATION),
        "--seed",
        "8",
        "--no-shrink",
        "--workers",
        "2",
        "--request-timeout",
        "20",
        "--header",
        f"Authorization: Bearer {owner.access_token}",
        "--report",
        "junit",
        "--report-junit-path",
        str(report),
        "--include-path-regex",
        os.environ.get("FUZZ_ONLY", "."),
        "--suppress-health-check",
        "all",
    ]
    process = await asyncio.create_subprocess_exec(
        *command,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "SCHEMATHESIS_HOOKS": ""},
    )
    output, _ = await process.communicate()
    text = output.decode(errors="replace")
    assert report.exists(), text[-4000:]
    tested = sum(1 for _ in ET.parse(report).getroot().iter("testcase"))
    assert tested >= 40, f"schemathesis tested only {tested} operations:\n{text[-4000:]}"
    assert _server_errors(report) == [], text[-6000:]
