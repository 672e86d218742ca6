"""Sign-in guesses are counted before the password is checked, so concurrent bursts
cannot outrun the limits (issue 8 items 1 and 2). Through the gateway, concurrently."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from tests.support.accounts import PASSWORD, Account, register, unique_email
from tests.support.auth_suite import start_suite
from tests.support.suite import RunningSuite

pytestmark = pytest.mark.database

MAX_PER_ACCOUNT = 5
MAX_PER_ADDRESS = 12


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def suite(
    database_dsn: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningSuite]:
    running = await start_suite(
        database_dsn,
        redis_url,
        tmp_path_factory.mktemp("data"),
        login_slowdown_after_failures=100,  # the limits are under test here, not the delays
        login_max_failures_per_account=MAX_PER_ACCOUNT,
        login_max_failures_per_address=MAX_PER_ADDRESS,
        # The test client plays a proxy so each test can have an address of its own.
        trusted_proxies=["127.0.0.0/8"],
    )
    yield running
    await running.stop()


@pytest.fixture
async def ana(suite: RunningSuite) -> Account:
    return await register(suite.address("auth"), "ana")


def _from_new_address() -> dict[str, str]:
    return {"x-forwarded-for": f"198.18.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"}


async def test_120_concurrent_guesses_check_no_more_than_the_limit(
    http: httpx.AsyncClient, ana: Account
) -> None:
    headers = _from_new_address()
    guesses = [
        http.post(
            "/api/v1/auth/login",
            json={"email": ana.email, "password": f"wrong guess {index:04d}"},
            headers=headers,
        )
        for index in range(120)
    ]
    replies = await asyncio.gather(*guesses)
    statuses = Counter(reply.status_code for reply in replies)
    assert statuses == {401: MAX_PER_ACCOUNT, 429: 120 - MAX_PER_ACCOUNT}
    assert all(int(r.headers["retry-after"]) > 0 for r in replies if r.status_code == 429)
    # Even the right password, from anywhere, is refused until the window ends.
    right = await http.post(
        "/api/v1/auth/login",
        json={"email": ana.email, "password": PASSWORD},
        headers=_from_new_address(),
    )
    assert right.status_code == 429
    assert int(right.headers["retry-after"]) > 0


async def test_a_burst_ending_with_the_right_password_does_not_sign_in(
    http: httpx.AsyncClient, ana: Account
) -> None:
    headers = _from_new_address()
    burst = [{"email": ana.email, "password": f"wrong guess {i:04d}"} for i in range(29)]
    burst.append({"email": ana.email, "password": PASSWORD})
    replies = await asyncio.gather(
        *(http.post("/api/v1/auth/login", json=body, headers=headers) for body in burst)
    )
    checked = [reply for reply in replies if reply.status_code != 429]
    assert len(checked) <= MAX_PER_ACCOUNT
    if replies[-1].status_code == 200:
        # Only if it happened to be among the first guesses counted.
        assert len(checked) == MAX_PER_ACCOUNT
    assert Counter(r.status_code for r in replies)[429] >= 30 - MAX_PER_ACCOUNT


async def test_concurrent_guesses_from_one_address_across_accounts_are_capped(
    http: httpx.AsyncClient,
) -> None:
    headers = _from_new_address()
    replies = await asyncio.gather(
        *(
            http.post(
                "/api/v1/auth/login",
                json={"email": unique_email("probe"), "password": "wrong guess 1234"},
                headers=headers,
            )
            for _ in range(60)
        )
    )
    statuses = Counter(reply.status_code for reply in replies)
    assert statuses == {401: MAX_PER_ADDRESS, 429: 60 - MAX_PER_ADDRESS}


async def test_successful_sign_ins_do_not_use_up_the_address(
    http: httpx.AsyncClient, suite: RunningSuite
) -> None:
    # Many people behind one address sign in correctly, more than the address limit.
    headers = _from_new_address()
    people = [await register(suite.address("auth"), "office") for _ in range(MAX_PER_ADDRESS + 3)]
    for person in people:
        reply = await http.post(
            "/api/v1/auth/login",
            json={"email": person.email, "password": PASSWORD},
            headers=headers,
        )
        assert reply.status_code == 200, reply.text


async def test_change_password_guesses_take_the_sign_in_limits(
    http: httpx.AsyncClient, ana: Account
) -> None:
    headers = {**ana.headers, **_from_new_address()}
    guesses = await asyncio.gather(
        *(
            http.post(
                "/api/v1/auth/password:change",
                json={
                    "currentPassword": f"wrong guess {index:04d}",
                    "newPassword": "a completely different passphrase",
                },
                headers=headers,
            )
            for index in range(30)
        )
    )
    statuses = Counter(reply.status_code for reply in guesses)
    assert statuses == {400: MAX_PER_ACCOUNT, 429: 30 - MAX_PER_ACCOUNT}
    right = await http.post(
        "/api/v1/auth/password:change",
        json={"currentPassword": PASSWORD, "newPassword": "a completely different passphrase"},
        headers=headers,
    )
    assert right.status_code == 429
    assert int(right.headers["retry-after"]) > 0
    # Sign-in shares the count: the account is closed to guessing there too.
    login = await http.post(
        "/api/v1/auth/login",
        json={"email": ana.email, "password": PASSWORD},
        headers=_from_new_address(),
    )
    assert login.status_code == 429
