"""Which exceptions count as a dependency outage (UNAVAILABLE) rather than a bug (INTERNAL)."""

import asyncpg
import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from tripsage_core.outages import is_outage


def _raised_from(cause: BaseException) -> BaseException:
    try:
        try:
            raise cause
        except BaseException as inner:
            raise RuntimeError("wrapped") from inner
    except RuntimeError as outer:
        return outer


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionRefusedError(111, "refused"),
        ConnectionResetError(),
        TimeoutError(),
        FileNotFoundError(2, "No such file or directory"),  # a Unix socket that is gone
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.CannotConnectNowError("the database system is starting up"),
        asyncpg.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.InternalClientError(
            "cannot switch to state 12; another operation (2) is in progress"
        ),
        RedisConnectionError("Connection refused"),
        _raised_from(ConnectionRefusedError()),
    ],
)
def test_outages(exc: BaseException) -> None:
    assert is_outage(exc)


@pytest.mark.parametrize(
    "exc",
    [
        ValueError("a bug"),
        FileNotFoundError(2, "No such file or directory", "/app/reference.json"),
        asyncpg.UniqueViolationError("duplicate key"),
        asyncpg.QueryCanceledError("canceling statement due to statement timeout"),
        ResponseError("WRONGTYPE"),
        _raised_from(KeyError("x")),
    ],
)
def test_bugs_stay_internal(exc: BaseException) -> None:
    assert not is_outage(exc)
