"""Password-reset requests are limited per account and per address, and links go out by
email through NOTIFIER_URL (a local SMTP server here), never to the log (issue 8 item 3)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import pytest_asyncio

from services.auth.notifier import DevelopmentNotifier
from tests.support.accounts import Account, register, unique_email
from tests.support.auth_suite import start_suite
from tests.support.smtp_inbox import Inbox, smtp_inbox
from tests.support.suite import RunningSuite

pytestmark = pytest.mark.database

MAX_PER_ACCOUNT = 3
MAX_PER_ADDRESS = 8


@pytest.fixture(scope="module")
def inbox() -> Iterator[Inbox]:
    with smtp_inbox() as running:
        yield running


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def suite(
    database_dsn: str,
    redis_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    inbox: Inbox,
) -> AsyncIterator[RunningSuite]:
    running = await start_suite(
        database_dsn,
        redis_url,
        tmp_path_factory.mktemp("data"),
        password_reset_max_per_account=MAX_PER_ACCOUNT,
        password_reset_max_per_address=MAX_PER_ADDRESS,
        password_reset_url="https://app.example.com/reset",
        notifier_url=inbox.url,
        notifier_from="TripSage <no-reply@tripsage.test>",
        trusted_proxies=["127.0.0.0/8"],  # the test client plays a proxy
    )
    yield running
    await running.stop()


@pytest.fixture
async def ana(suite: RunningSuite) -> Account:
    return await register(suite.address("auth"), "ana")


def _from_new_address() -> dict[str, str]:
    return {"x-forwarded-for": f"198.18.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"}


async def test_the_reset_link_arrives_by_email_and_works(
    http: httpx.AsyncClient, ana: Account, inbox: Inbox
) -> None:
    reply = await http.post(
        "/api/v1/auth/password:requestReset", json={"email": ana.email}, headers=_from_new_address()
    )
    assert reply.status_code == 200, reply.text
    (mail,) = inbox.to(ana.email, "password")
    assert mail["From"] == "TripSage <no-reply@tripsage.test>"
    token = Inbox.link_token(mail, "https://app.example.com/reset")
    reset = await http.post(
        "/api/v1/auth/password:reset",
        json={"resetToken": token, "newPassword": "a completely different passphrase"},
    )
    assert reset.status_code == 200, reset.text


async def test_40_concurrent_requests_for_one_account_send_no_more_than_the_limit(
    http: httpx.AsyncClient, ana: Account, inbox: Inbox
) -> None:
    replies = await asyncio.gather(
        *(
            http.post(
                "/api/v1/auth/password:requestReset",
                json={"email": ana.email},
                headers=_from_new_address(),  # spread over addresses: the account limit holds
            )
            for _ in range(40)
        )
    )
    # The answer is the same for every request: nothing tells whether the account exists.
    assert {reply.status_code for reply in replies} == {200}
    assert len(inbox.to(ana.email, "password")) == MAX_PER_ACCOUNT


async def test_requests_from_one_address_are_capped_whatever_the_email(
    http: httpx.AsyncClient, ana: Account
) -> None:
    headers = _from_new_address()
    emails = [ana.email, *(unique_email("nobody") for _ in range(29))]
    replies = await asyncio.gather(
        *(
            http.post("/api/v1/auth/password:requestReset", json={"email": e}, headers=headers)
            for e in emails
        )
    )
    statuses = Counter(reply.status_code for reply in replies)
    assert statuses == {200: MAX_PER_ADDRESS, 429: 30 - MAX_PER_ADDRESS}
    assert all(int(r.headers["retry-after"]) > 0 for r in replies if r.status_code == 429)


async def test_the_development_notifier_says_so_and_is_not_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG, logger="tripsage.auth.notifier"):
        await DevelopmentNotifier().send_password_reset(
            email="ana@example.com", link="https://app.example.com/reset?token=t"
        )
    (record,) = caplog.records
    assert record.levelno < logging.WARNING
    assert "development notifier" in record.getMessage()


def test_notifier_urls_name_the_server_tls_and_login() -> None:
    from services.auth.notifier import SmtpServer

    plain = SmtpServer.from_url("smtp://mail.example.com")
    assert (plain.port, plain.implicit_tls, plain.starttls, plain.username) == (
        25,
        False,
        False,
        None,
    )
    upgraded = SmtpServer.from_url("smtp://ana%40x.com:p%3Ass@mail.example.com:587?starttls=true")
    assert (upgraded.port, upgraded.starttls) == (587, True)
    assert (upgraded.username, upgraded.password) == ("ana@x.com", "p:ss")
    implicit = SmtpServer.from_url("smtps://mail.example.com")
    assert (implicit.port, implicit.implicit_tls) == (465, True)
    with pytest.raises(ValueError, match="NOTIFIER_URL"):
        SmtpServer.from_url("http://mail.example.com")
