"""Security events: their own record type (tripsage_core/security_events.py), written by
the real services for what an operator must be able to audit, without any secret."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import grpc
import httpx
import pytest
import pytest_asyncio

from tests.support.accounts import PASSWORD, register, verified
from tests.support.auth_suite import start_suite
from tests.support.suite import RunningSuite
from tests.support.trips import ROLES, create_trip, invite, share
from tripsage.trips.v1 import trip_service_pb2 as trips_pb
from tripsage.trips.v1 import trip_service_pb2_grpc as trips_grpc

pytestmark = pytest.mark.database

NEW_PASSWORD = "a whole new passphrase 42"
OPENAI_KEY = "sk-test-security-events-0123456789"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def suite(
    database_dsn: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningSuite]:
    running = await start_suite(
        database_dsn,
        redis_url,
        tmp_path_factory.mktemp("data"),
        ("auth", "trips"),
        login_max_failures_per_account=2,
    )
    yield running
    await running.stop()


def _events(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if getattr(r, "event_type", None) == "security"]


async def test_account_and_key_changes_and_refusals_are_security_events(
    suite: RunningSuite, http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tripsage.security")
    ana = await register(suite.address("auth"), "ana")
    bob = await register(suite.address("auth"), "bob")
    for _ in range(3):  # two wrong guesses, then the account is throttled
        await http.post("/api/v1/auth/login", json={"email": bob.email, "password": "wrong!!"})
    changed = await http.post(
        "/api/v1/auth/password:change",
        json={"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD},
        headers=ana.headers,
    )
    assert changed.is_success, changed.text
    signed_in = await http.post(
        "/api/v1/auth/login", json={"email": ana.email, "password": NEW_PASSWORD}
    )
    assert signed_in.is_success, signed_in.text
    headers = {"authorization": f"Bearer {signed_in.json()['accessToken']}"}
    key = await http.post("/api/v1/api-keys", json={"name": "ci"}, headers=headers)
    assert key.is_success, key.text
    stored = await http.put(
        "/api/v1/users/me/provider-keys/PROVIDER_SERVICE_OPENAI",
        json={"apiKey": OPENAI_KEY},
        headers=headers,
    )
    assert stored.is_success, stored.text
    denied = await http.post("/api/v1/users:lookup", json={"emails": [ana.email]}, headers=headers)
    assert denied.status_code == 403

    events = _events(caplog)
    actions = [(r.action, r.outcome) for r in events]  # type: ignore[attr-defined]
    for expected in [
        ("sign_in_failed", "denied"),
        ("sign_in_throttled", "throttled"),
        ("password_changed", "success"),
        ("api_key_created", "success"),
        ("provider_key_created", "success"),
        ("permission_denied", "denied"),
    ]:
        assert expected in actions, actions
    assert all(r.name == "tripsage.security" for r in events)
    assert all(r.levelno == logging.WARNING for r in events if r.outcome != "success")  # type: ignore[attr-defined]
    secrets = [PASSWORD, NEW_PASSWORD, OPENAI_KEY, key.json()["secret"], ana.access_token]
    for record in events:
        text = record.getMessage() + " " + " ".join(map(str, record.__dict__.values()))
        assert not any(secret in text for secret in secrets)


async def test_invitation_changes_are_security_events_without_the_address(
    suite: RunningSuite, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tripsage.security")
    owner, bob, cleo = [
        await verified(suite, await register(suite.address("auth"), name))
        for name in ("owner", "bob", "cleo")
    ]
    async with grpc.aio.insecure_channel(suite.address("trips")) as channel:
        stub = trips_grpc.TripServiceStub(channel)
        trip = await create_trip(stub, owner, title="Lisbon")
        bob_invitation = await share(stub, owner, trip.id, bob, "view")  # created, accepted
        cleo_invitation = await invite(stub, owner, trip.id, cleo.email, "edit")
        await stub.DeclineTripInvitation(
            trips_pb.DeclineTripInvitationRequest(invitation_id=cleo_invitation.id),
            metadata=cleo.metadata,
        )
        stranger = await invite(stub, owner, trip.id, "nobody-yet@example.com", "view")
        await stub.RemoveCollaborator(  # a pending invitation taken back
            trips_pb.RemoveCollaboratorRequest(trip_id=trip.id, collaborator_id=stranger.id),
            metadata=owner.metadata,
        )
        await stub.UpdateCollaboratorRole(
            trips_pb.UpdateCollaboratorRoleRequest(
                trip_id=trip.id, collaborator_id=bob_invitation.id, role=ROLES["edit"]
            ),
            metadata=owner.metadata,
        )
        await stub.RemoveCollaborator(
            trips_pb.RemoveCollaboratorRequest(trip_id=trip.id, collaborator_id=bob_invitation.id),
            metadata=owner.metadata,
        )

    events = [r for r in _events(caplog) if getattr(r, "trip_id", None) == trip.id] + [
        r for r in _events(caplog) if getattr(r, "invitation_id", None) == cleo_invitation.id
    ]
    seen = {(r.action, getattr(r, "invitation_id", None) or r.collaborator_id) for r in events}  # type: ignore[attr-defined]
    assert seen >= {
        ("invitation_created", bob_invitation.id),
        ("invitation_accepted", bob_invitation.id),
        ("invitation_created", cleo_invitation.id),
        ("invitation_declined", cleo_invitation.id),
        ("invitation_revoked", stranger.id),
        ("collaborator_role_changed", bob_invitation.id),
        ("collaborator_removed", bob_invitation.id),
    }, seen
    by_action = {r.action: r for r in events}  # type: ignore[attr-defined]
    assert by_action["invitation_accepted"].user_id == bob.id  # type: ignore[attr-defined]
    assert by_action["collaborator_role_changed"].to_role == "edit"  # type: ignore[attr-defined]
    assert by_action["collaborator_removed"].collaborator_user_id == bob.id  # type: ignore[attr-defined]
    for record in events:
        text = record.getMessage() + " " + " ".join(map(str, record.__dict__.values()))
        for address in (bob.email, cleo.email, "nobody-yet@example.com"):
            assert address not in text
