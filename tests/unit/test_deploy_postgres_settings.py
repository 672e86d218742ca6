"""Which PostgreSQL URL each kind of work uses when a transaction pooler fronts POSTGRES_URL."""

from __future__ import annotations

from typing import Any

from services.trips.app import change_feed
from tripsage_core.config import Settings

POOLER = "postgresql://u:p@pooler.example:6543/postgres"
DIRECT = "postgresql://u:p@db.example:5432/postgres"


def _settings(**values: Any) -> Settings:
    return Settings(_env_file=None, environment="testing", **values)  # type: ignore[call-arg]


def test_without_a_direct_url_everything_uses_postgres_url() -> None:
    settings = _settings(postgres_url=DIRECT)
    assert settings.postgres_statement_cache_size == 100
    assert settings.postgres_session_url == DIRECT
    assert settings.postgres_listen_url == DIRECT


def test_behind_a_pooler_sessions_and_listen_go_to_the_direct_url() -> None:
    settings = _settings(
        postgres_url=POOLER, postgres_direct_url=DIRECT, postgres_statement_cache_size=0
    )
    assert settings.postgres_session_url == DIRECT
    assert change_feed(settings).dsn == DIRECT


def test_a_pooler_alone_means_watchers_poll_instead_of_a_listen_that_never_hears() -> None:
    settings = _settings(postgres_url=POOLER, postgres_statement_cache_size=0)
    assert settings.postgres_session_url == POOLER  # migrations lock per transaction
    assert settings.postgres_listen_url is None
    assert change_feed(settings).dsn is None


def test_an_empty_direct_url_is_unset() -> None:
    assert _settings(postgres_url=DIRECT, postgres_direct_url="").postgres_direct_url is None


async def test_a_feed_with_nowhere_to_listen_subscribes_without_waiting() -> None:
    feed = change_feed(_settings(postgres_url=POOLER, postgres_statement_cache_size=0))
    subscription = await feed.subscribe("trip")
    assert not feed.live
    assert feed.watcher_count == 1
    subscription.close()
    assert feed.watcher_count == 0
    await feed.close()
