"""The rules a valid trip follows and the password strength rule."""

from __future__ import annotations

from datetime import date

import pytest

from services.auth.passwords import check_strength, hash_password, verify_password
from services.trips.model import Destination, Money, TripDraft, validate
from tripsage_core.errors import InvalidArgument


def _fields(draft: TripDraft) -> set[str]:
    with pytest.raises(InvalidArgument) as caught:
        validate(draft)
    return {v.field for v in caught.value.violations}


def test_a_plain_trip_is_valid() -> None:
    validate(TripDraft(title="Lisbon", start_date=date(2027, 5, 1), end_date=date(2027, 5, 5)))


def test_every_broken_rule_is_reported() -> None:
    draft = TripDraft(
        title=" ",
        description="x" * 5001,
        start_date=date(2027, 5, 5),
        end_date=date(2027, 5, 1),
        destinations=[Destination(name="Porto", country_code="PRT", arrival_date=date(2027, 6, 1))],
        budget=Money("euro", -1),
        adults=-1,
        status="dreaming",
        tags=[""],
    )
    assert _fields(draft) == {
        "title",
        "description",
        "end_date",
        "destinations[0].country_code",
        "destinations[0].arrival_date",
        "budget.currency_code",
        "budget",
        "travelers.adults",
        "status",
        "tags[0]",
    }


@pytest.mark.parametrize("password", ["short", "aaaaaaaaaaaa", "password123", "x" * 300])
def test_weak_passwords_are_refused_with_a_reason(password: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        check_strength(password)
    assert caught.value.violations[0].field == "password"


def test_passphrases_pass_and_hashes_verify() -> None:
    check_strength("correct horse battery")
    hashed = hash_password("correct horse battery")
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "correct horse battery")
    assert not verify_password(hashed, "correct horse batterY")
    assert not verify_password(None, "anything at all")


@pytest.mark.parametrize(
    ("currency", "country", "bad"),
    [
        ("EUR", "PT", set()),
        ("ABC", "PT", {"budget.currency_code"}),  # three letters, but not ISO 4217
        ("JPY", "XX", {"destinations[0].country_code"}),  # two letters, but not ISO 3166
    ],
)
def test_codes_must_be_real_iso_codes(currency: str, country: str, bad: set[str]) -> None:
    draft = TripDraft(
        title="Codes", destinations=[Destination(name="Somewhere", country_code=country)],
        budget=Money(currency, 100),
    )  # fmt: skip
    if bad:
        assert _fields(draft) == bad
    else:
        validate(draft)
