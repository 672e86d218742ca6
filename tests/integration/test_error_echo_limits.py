"""Errors that repeat the input stay small (issue 8 item 16, service side): a 20 kB
destination, place name or offer id is a 400 with a clipped message, never 429
"Stream removed" because the status outgrew gRPC's metadata limit."""

from __future__ import annotations

import httpx
import pytest

from tests.support.accounts import Account, register
from tests.support.suite import RunningSuite

pytestmark = pytest.mark.database

HUGE = "Lisbon" + "x" * 20_000
HUGE_WIDE = "Лиссабон" * 2_500  # 2 bytes a letter, 6 once percent-encoded in grpc-message


@pytest.fixture
async def ana(suite: RunningSuite) -> Account:
    return await register(suite.address("auth"), "ana")


def assert_small_400(reply: httpx.Response) -> None:
    assert reply.status_code in (400, 404), reply.text[:300]
    error = reply.json()["error"]
    assert len(error["message"].encode()) <= 1024
    assert len(reply.content) < 8_000, len(reply.content)


@pytest.mark.parametrize("text", [HUGE, HUGE_WIDE])
async def test_huge_inputs_echoed_in_errors_are_clipped(
    http: httpx.AsyncClient, ana: Account, text: str
) -> None:
    h = ana.headers
    in_url = text[:6_000]  # what a URL carries: 12 kB of UTF-8, 36 kB percent-encoded
    replies = [
        await http.post(
            "/api/v1/accommodations:search",
            json={"destination": text, "checkInDate": "2027-05-01", "checkOutDate": "2027-05-03"},
            headers=h,
        ),
        await http.get("/api/v1/places", params={"query": in_url}, headers=h),
        await http.get("/api/v1/geocode", params={"address": in_url}, headers=h),
        await http.get(f"/api/v1/flights/offers/{in_url}", headers=h),
        await http.get(f"/api/v1/accommodations/{in_url}", headers=h),
        await http.post(
            "/api/v1/flights:search",
            json={
                "slices": [{"origin": text, "destination": text, "departureDate": text}] * 6,
                "excludeAirlines": [text] * 20,
            },
            headers=h,
        ),
        await http.post(
            "/api/v1/trips",
            json={
                "title": text,
                "tags": [text] * 10,
                "destinations": [{"name": text, "countryCode": text}] * 10,
            },
            headers=h,
        ),
    ]
    for reply in replies:
        assert_small_400(reply)
