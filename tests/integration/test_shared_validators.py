"""One validator per shared type, the same answer from every service (issue 8 item 17,
issue 9): coordinates, money and currencies, emails. Over the gateway."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.accounts import PASSWORD, Account, register, verified
from tests.support.errors import http_field_violations
from tests.support.suite import RunningSuite

pytestmark = pytest.mark.database

STAY = {"destination": "Lisbon", "checkInDate": "2027-05-01", "checkOutDate": "2027-05-03"}


@pytest.fixture
async def ana(suite: RunningSuite) -> Account:
    return await verified(suite, await register(suite.address("auth"), "ana"))


def violations(reply: httpx.Response) -> dict[str, str]:
    assert reply.status_code == 400, reply.text
    return http_field_violations(reply)


async def test_coordinates_out_of_range_are_refused_by_trips_as_by_travel(
    http: httpx.AsyncClient, ana: Account
) -> None:
    far = {"latitude": 91, "longitude": -181}
    trip = await http.post(
        "/api/v1/trips",
        json={"title": "Pole", "destinations": [{"name": "North", "location": far}]},
        headers=ana.headers,
    )
    stays = await http.post(
        "/api/v1/accommodations:search", json={**STAY, "location": far}, headers=ana.headers
    )
    assert violations(trip) == {
        "destinations[0].location.latitude": "must be between -90 and 90",
        "destinations[0].location.longitude": "must be between -180 and 180",
    }
    assert violations(stays) == {
        "location.latitude": "must be between -90 and 90",
        "location.longitude": "must be between -180 and 180",
    }


@pytest.mark.parametrize(
    ("price", "problem"),
    [
        ({"currencyCode": "EUR", "units": "-100"}, "must not be negative"),
        ({"currencyCode": "EUR", "units": "0"}, "must be more than zero"),
        ({"currencyCode": "EUR", "units": "5", "nanos": -1}, "must not be negative"),
    ],
)
async def test_price_caps_follow_one_money_rule_for_flights_and_stays(
    http: httpx.AsyncClient, ana: Account, price: dict[str, Any], problem: str
) -> None:
    stays = await http.post(
        "/api/v1/accommodations:search",
        json={**STAY, "maxNightlyPrice": price},
        headers=ana.headers,
    )
    flights = await http.post(
        "/api/v1/flights:search",
        json={
            "slices": [{"origin": "LIS", "destination": "LHR", "departureDate": "2027-05-01"}],
            "maxPrice": price,
        },
        headers=ana.headers,
    )
    assert violations(stays) == {"max_nightly_price": problem}
    assert violations(flights) == {"max_price": problem}


async def test_amounts_and_currencies_follow_the_same_rule_in_trips(
    http: httpx.AsyncClient, ana: Account
) -> None:
    reply = await http.post(
        "/api/v1/trips",
        json={"title": "Rich", "budget": {"currencyCode": "XXY", "units": "10000000000000000"}},
        headers=ana.headers,
    )
    assert set(violations(reply)) == {"budget.currency_code", "budget.units"}
    reply = await http.post(
        "/api/v1/accommodations:search",
        json={**STAY, "maxNightlyPrice": {"currencyCode": "XXY", "units": "100"}},
        headers=ana.headers,
    )
    assert set(violations(reply)) == {"max_nightly_price.currency_code"}


@pytest.mark.parametrize(
    "address", ["ana..b@example.com", "ana@localhost", "ana@example.test", "@example.com"]
)
async def test_an_address_is_refused_alike_by_auth_and_trips(
    http: httpx.AsyncClient, ana: Account, address: str
) -> None:
    registered = await http.post(
        "/api/v1/auth/register", json={"email": address, "password": PASSWORD}
    )
    trip = await http.post("/api/v1/trips", json={"title": "Porto"}, headers=ana.headers)
    invited = await http.post(
        f"/api/v1/trips/{trip.json()['trip']['id']}/collaborators",
        json={"email": address, "role": "COLLABORATOR_ROLE_VIEW"},
        headers=ana.headers,
    )
    assert (
        violations(registered) == violations(invited) == {"email": "is not a valid email address"}
    )
