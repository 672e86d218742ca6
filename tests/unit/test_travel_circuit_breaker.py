"""tripsage_core.circuit_breaker and the provider HTTP helpers the travel adapters share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from services.travel.durations import google_seconds, iso_seconds
from services.travel.providers.http import parse_retry_after
from tripsage_core.circuit_breaker import CircuitBreaker, CircuitOpen
from tripsage_core.money import proto_amount, proto_of


def test_opens_after_the_threshold_and_half_opens_after_the_pause() -> None:
    now = [100.0]
    breaker = CircuitBreaker("p", failure_threshold=3, reset_seconds=30, clock=lambda: now[0])
    for _ in range(2):
        breaker.before_call()
        breaker.record_failure()
    assert breaker.state == "closed"
    breaker.record_failure()
    assert breaker.state == "open"
    with pytest.raises(CircuitOpen) as caught:
        breaker.before_call()
    assert caught.value.retry_after_seconds == 30
    now[0] += 30
    assert breaker.state == "half_open"
    breaker.before_call()  # the one trial
    with pytest.raises(CircuitOpen):
        breaker.before_call()  # others wait for the trial's outcome
    breaker.record_failure()
    assert breaker.state == "open"  # a failed trial opens it again at once
    now[0] += 30
    breaker.before_call()
    breaker.record_success()
    assert breaker.state == "closed"


def test_a_success_resets_the_count() -> None:
    breaker = CircuitBreaker("p", failure_threshold=2)
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    assert breaker.state == "closed"


def test_retry_after_forms() -> None:
    assert parse_retry_after("12") == 12
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True)
    parsed = parse_retry_after(later)
    assert parsed is not None
    assert 85 <= parsed <= 90


def test_durations_and_money() -> None:
    assert iso_seconds("PT2H26M") == 8760
    assert iso_seconds("P1DT30M") == 88200
    assert iso_seconds("garbage") == 0
    assert google_seconds("165s") == 165
    price = proto_of("412.305", "gbp")
    assert (price.currency_code, price.units, price.nanos) == ("GBP", 412, 310_000_000)
    assert str(proto_amount(price)) == "412.31"
