"""The rate-limit settings: bounds, RATE_LIMIT_PER_MINUTE's meaning, the limits built."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from gateway.consumers import Consumer
from gateway.rate_classes import RouteClass
from gateway.rate_limit import RateLimits
from tripsage_core.config import Settings


def test_defaults_and_the_old_setting_as_the_users_limit() -> None:
    limits = RateLimits.from_settings(Settings())
    assert limits.consumers == {
        Consumer.ANONYMOUS: 120,
        Consumer.USER: 600,
        Consumer.API_KEY: 1200,
        Consumer.ADMIN: 3000,
    }
    assert limits.route_classes == {
        RouteClass.SIGN_IN: 10,
        RouteClass.CHAT: 20,
        RouteClass.SEARCH: 60,
    }
    assert (
        RateLimits.from_settings(Settings(rate_limit_per_minute=900)).consumers[Consumer.USER]
        == 900
    )
    both = Settings(rate_limit_per_minute=900, rate_limit_user_per_minute=300)
    assert RateLimits.from_settings(both).consumers[Consumer.USER] == 300


def test_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RATE_LIMIT_ANONYMOUS_PER_MINUTE", "30")
    monkeypatch.setenv("RATE_LIMIT_SEARCH_PER_MINUTE", "15")
    limits = RateLimits.from_settings(Settings())
    assert limits.consumers[Consumer.ANONYMOUS] == 30
    assert limits.route_classes[RouteClass.SEARCH] == 15


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("rate_limit_anonymous_per_minute", 0),
        ("rate_limit_sign_in_per_minute", -1),
        ("rate_limit_chat_per_minute", 10**10),
        ("rate_limit_user_per_minute", 0),
        ("rate_limit_per_minute", -5),
        ("rate_limit_search_per_minute", "many"),
    ],
)
def test_out_of_bounds_values_are_refused_naming_the_setting(name: str, value: object) -> None:
    with pytest.raises(ValidationError, match=name):
        Settings(**{name: value})


def test_limits_name_every_consumer_type() -> None:
    with pytest.raises(ValueError, match="no limit for api_key, admin"):
        RateLimits({Consumer.ANONYMOUS: 1, Consumer.USER: 1})
    with pytest.raises(ValueError, match="at least 1"):
        RateLimits(RateLimits.uniform(5).consumers, {RouteClass.CHAT: 0})
