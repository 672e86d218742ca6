"""Users and their sessions beyond sign-in: profile and preferences, passwords, resets,
sign-out everywhere, and brute-force protection. Over gRPC and through the gateway."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import grpc
import httpx
import pytest
import pytest_asyncio
from google.protobuf import field_mask_pb2
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from tests.support.accounts import PASSWORD, Account, register, unique_email
from tests.support.auth_suite import start_suite
from tests.support.errors import field_violations
from tests.support.suite import RunningSuite
from tripsage.auth.v1 import auth_service_pb2 as pb
from tripsage.auth.v1 import auth_service_pb2_grpc as pb_grpc
from tripsage.common.v1 import cabin_class_pb2
from tripsage_core.client_address import HEADER as CLIENT_ADDRESS_HEADER
from tripsage_core.client_address import seal

pytestmark = pytest.mark.database

NEW_PASSWORD = "a completely different passphrase"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def suite(
    database_dsn: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningSuite]:
    running = await start_suite(
        database_dsn,
        redis_url,
        tmp_path_factory.mktemp("data"),
        login_slowdown_after_failures=2,
        login_max_failures_per_account=4,
        login_max_failures_per_address=6,
        password_reset_url="https://app.example.com/reset",
    )
    yield running
    await running.stop()


@pytest.fixture
async def ana(suite: RunningSuite) -> Account:
    return await register(suite.address("auth"), "ana")


def _retry_delay(error: grpc.aio.AioRpcError) -> float:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None
    for detail in status.details:
        if detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            info = error_details_pb2.RetryInfo()
            detail.Unpack(info)
            return info.retry_delay.ToTimedelta().total_seconds()
    raise AssertionError("no RetryInfo")


async def test_preferences_update_with_a_field_mask_and_etag_over_grpc(
    auth: pb_grpc.AuthServiceStub, ana: Account
) -> None:
    me = (await auth.GetCurrentUser(pb.GetCurrentUserRequest(), metadata=ana.metadata)).user
    update = pb.User(
        full_name="Ana Lima",
        etag=me.etag,
        preferences=pb.UserPreferences(
            home_airport="lis",
            currency="eur",
            cabin_class=cabin_class_pb2.CABIN_CLASS_BUSINESS,
            dietary_needs=["vegetarian", " ", "vegetarian", "nut allergy"],
            accessibility_needs=["step-free access"],
            travel_style=pb.TRAVEL_STYLE_RELAXED,
            budget_level=pb.BUDGET_LEVEL_PREMIUM,
        ),
    )
    updated = (
        await auth.UpdateCurrentUser(
            pb.UpdateCurrentUserRequest(user=update), metadata=ana.metadata
        )
    ).user
    prefs = updated.preferences
    assert updated.full_name == "Ana Lima"
    assert (prefs.home_airport, prefs.currency) == ("LIS", "EUR")
    assert list(prefs.dietary_needs) == ["vegetarian", "nut allergy"]
    assert prefs.cabin_class == cabin_class_pb2.CABIN_CLASS_BUSINESS
    assert prefs.budget_level == pb.BUDGET_LEVEL_PREMIUM
    assert updated.etag != me.etag
    # Only the masked field changes.
    only_currency = await auth.UpdateCurrentUser(
        pb.UpdateCurrentUserRequest(
            user=pb.User(full_name="ignored", preferences=pb.UserPreferences(currency="JPY")),
            update_mask=field_mask_pb2.FieldMask(paths=["preferences.currency"]),
        ),
        metadata=ana.metadata,
    )
    assert only_currency.user.full_name == "Ana Lima"
    assert only_currency.user.preferences.currency == "JPY"
    assert only_currency.user.preferences.home_airport == "LIS"
    # The etag read before the last change is stale now.
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await auth.UpdateCurrentUser(
            pb.UpdateCurrentUserRequest(user=pb.User(full_name="Old", etag=updated.etag)),
            metadata=ana.metadata,
        )
    assert caught.value.code() == grpc.StatusCode.ABORTED


async def test_bad_preferences_name_every_bad_field(
    auth: pb_grpc.AuthServiceStub, ana: Account
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await auth.UpdateCurrentUser(
            pb.UpdateCurrentUserRequest(
                user=pb.User(preferences=pb.UserPreferences(home_airport="XQZ1", currency="ABC")),
            ),
            metadata=ana.metadata,
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(field_violations(caught.value)) == {
        "user.preferences.home_airport",
        "user.preferences.currency",
    }
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await auth.UpdateCurrentUser(
            pb.UpdateCurrentUserRequest(
                user=pb.User(email="new@example.com"),
                update_mask=field_mask_pb2.FieldMask(paths=["email"]),
            ),
            metadata=ana.metadata,
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "update_mask" in field_violations(caught.value)


async def test_profile_through_the_gateway(http: httpx.AsyncClient, ana: Account) -> None:
    me = await http.get("/api/v1/users/me", headers=ana.headers)
    assert me.status_code == 200
    patched = await http.patch(
        "/api/v1/users/me",
        params={"updateMask": "preferences.homeAirport,preferences.travelStyle"},
        json={
            "preferences": {"homeAirport": "JFK", "travelStyle": "TRAVEL_STYLE_BUSINESS"},
            "etag": me.json()["user"]["etag"],
        },
        headers=ana.headers,
    )
    assert patched.status_code == 200, patched.text
    prefs = patched.json()["user"]["preferences"]
    assert prefs["homeAirport"] == "JFK"
    assert prefs["travelStyle"] == "TRAVEL_STYLE_BUSINESS"
    stale = await http.patch(
        "/api/v1/users/me",
        json={"fullName": "X", "etag": me.json()["user"]["etag"]},
        headers=ana.headers,
    )
    assert stale.status_code == 409


async def test_changing_the_password_ends_every_other_session_at_once(
    auth: pb_grpc.AuthServiceStub, http: httpx.AsyncClient, ana: Account
) -> None:
    other = await auth.Login(pb.LoginRequest(email=ana.email, password=PASSWORD))
    other_headers = {"authorization": f"Bearer {other.access_token}"}
    assert (await http.get("/api/v1/users/me", headers=other_headers)).status_code == 200
    weak = await http.post(
        "/api/v1/auth/password:change",
        json={"currentPassword": PASSWORD, "newPassword": "short"},
        headers=ana.headers,
    )
    assert weak.status_code == 400
    assert "at least 10 characters" in weak.text
    wrong = await http.post(
        "/api/v1/auth/password:change",
        json={"currentPassword": "not my password at all", "newPassword": NEW_PASSWORD},
        headers=ana.headers,
    )
    assert wrong.status_code == 400
    changed = await http.post(
        "/api/v1/auth/password:change",
        json={"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD},
        headers=ana.headers,
    )
    assert changed.status_code == 200, changed.text
    # The other session's still-unexpired access token and its refresh token are dead...
    assert (await http.get("/api/v1/users/me", headers=other_headers)).status_code == 401
    with pytest.raises(grpc.aio.AioRpcError):
        await auth.RefreshSession(pb.RefreshSessionRequest(refresh_token=other.refresh_token))
    # ...while the session that changed the password goes on.
    assert (await http.get("/api/v1/users/me", headers=ana.headers)).status_code == 200
    await auth.Login(pb.LoginRequest(email=ana.email, password=NEW_PASSWORD))


async def test_logout_everywhere_ends_every_session(
    auth: pb_grpc.AuthServiceStub, http: httpx.AsyncClient, ana: Account
) -> None:
    second = await auth.Login(pb.LoginRequest(email=ana.email, password=PASSWORD))
    reply = await http.post("/api/v1/auth/logout", json={"allSessions": True}, headers=ana.headers)
    assert reply.status_code == 200, reply.text
    for token in (ana.access_token, second.access_token):
        me = await http.get("/api/v1/users/me", headers={"authorization": f"Bearer {token}"})
        assert me.status_code == 401
    for refresh in (ana.refresh_token, second.refresh_token):
        with pytest.raises(grpc.aio.AioRpcError):
            await auth.RefreshSession(pb.RefreshSessionRequest(refresh_token=refresh))


async def test_password_reset_link_is_sent_once_and_single_use(
    http: httpx.AsyncClient, ana: Account, suite: RunningSuite
) -> None:
    requested = await http.post(
        "/api/v1/auth/password:requestReset", json={"email": ana.email.upper()}
    )
    nobody = unique_email("nobody")
    unknown = await http.post("/api/v1/auth/password:requestReset", json={"email": nobody})
    assert requested.status_code == unknown.status_code == 200
    links = suite.outbox.links("password_reset", ana.email)
    assert len(links) == 1
    assert links[0].startswith("https://app.example.com/reset?token=")
    assert suite.outbox.links("password_reset", nobody) == []  # nothing sent for unknown emails
    token = suite.outbox.tokens("password_reset", ana.email)[0]
    reset = await http.post(
        "/api/v1/auth/password:reset", json={"resetToken": token, "newPassword": NEW_PASSWORD}
    )
    assert reset.status_code == 200, reset.text
    # Every session ended; the old password is gone, the new one works.
    assert (await http.get("/api/v1/users/me", headers=ana.headers)).status_code == 401
    again = await http.post(
        "/api/v1/auth/password:reset",
        json={"resetToken": token, "newPassword": "yet another long passphrase"},
    )
    assert again.status_code == 400
    login = await http.post(
        "/api/v1/auth/login", json={"email": ana.email, "password": NEW_PASSWORD}
    )
    assert login.status_code == 200


async def test_repeated_failures_for_one_account_are_refused_with_a_retry_delay(
    auth: pb_grpc.AuthServiceStub, http: httpx.AsyncClient, ana: Account
) -> None:
    address = ((CLIENT_ADDRESS_HEADER, seal(f"198.51.100.{uuid.uuid4().int % 250}")),)
    for _ in range(4):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await auth.Login(
                pb.LoginRequest(email=ana.email, password="wrong guess 1234"), metadata=address
            )
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    # Now even the right password is refused until the window ends.
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await auth.Login(pb.LoginRequest(email=ana.email, password=PASSWORD), metadata=address)
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert _retry_delay(caught.value) > 0
    reply = await http.post("/api/v1/auth/login", json={"email": ana.email, "password": PASSWORD})
    assert reply.status_code == 429
    assert int(reply.headers["retry-after"]) > 0


async def test_repeated_failures_from_one_address_are_refused(
    auth: pb_grpc.AuthServiceStub,
) -> None:
    address = ((CLIENT_ADDRESS_HEADER, seal(f"203.0.113.{uuid.uuid4().int % 250}")),)
    for _ in range(6):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await auth.Login(
                pb.LoginRequest(email=unique_email("probe"), password="wrong guess 1234"),
                metadata=address,
            )
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await auth.Login(
            pb.LoginRequest(email=unique_email("probe"), password="wrong guess 1234"),
            metadata=address,
        )
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


async def test_password_rules_and_resets_over_grpc(
    auth: pb_grpc.AuthServiceStub, ana: Account
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await auth.ChangePassword(
            pb.ChangePasswordRequest(current_password=PASSWORD, new_password="aaaaaaaaaaaa"),
            metadata=ana.metadata,
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "too easy to guess" in field_violations(caught.value)["new_password"]
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await auth.RequestPasswordReset(pb.RequestPasswordResetRequest(email="not an email"))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    await auth.RequestPasswordReset(pb.RequestPasswordResetRequest(email=ana.email))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await auth.ResetPassword(
            pb.ResetPasswordRequest(reset_token="guessed-token", new_password=NEW_PASSWORD)
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "reset_token" in field_violations(caught.value)
    await auth.ChangePassword(
        pb.ChangePasswordRequest(current_password=PASSWORD, new_password=NEW_PASSWORD),
        metadata=ana.metadata,
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await auth.Login(pb.LoginRequest(email=ana.email, password=PASSWORD))
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
