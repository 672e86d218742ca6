"""Every idempotent create goes through one helper: a retry replays the first result, a
different body under the same key is refused, and a key whose result was deleted says so."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.support.accounts import Account, register
from tests.support.suite import RunningSuite

pytestmark = pytest.mark.database


@pytest.fixture
async def ana(suite: RunningSuite) -> Account:
    return await register(suite.address("auth"), "idem")


def _keyed(account: Account) -> dict[str, str]:
    return {**account.headers, "idempotency-key": f"k-{uuid.uuid4()}"}


async def test_trip_item_and_copy_creates_replay_refuse_reuse_and_notice_deletion(
    http: httpx.AsyncClient, ana: Account
) -> None:
    trip_body = {"title": "Ghent", "startDate": "2027-05-01", "endDate": "2027-05-04"}
    keyed = _keyed(ana)
    first = await http.post("/api/v1/trips", headers=keyed, json=trip_body)
    again = await http.post("/api/v1/trips", headers=keyed, json=trip_body)
    # 201 Created the first time, 200 for the replay of it.
    assert (first.status_code, again.status_code) == (201, 200), again.text
    trip_id = first.json()["trip"]["id"]
    assert again.json()["trip"]["id"] == trip_id
    other = await http.post("/api/v1/trips", headers=keyed, json={**trip_body, "title": "Bruges"})
    assert other.status_code == 400
    assert "different request" in other.json()["error"]["message"]

    item_keyed = _keyed(ana)
    item_body = {"kind": "ITINERARY_ITEM_KIND_ACTIVITY", "title": "Gravensteen"}
    items = [
        await http.post(f"/api/v1/trips/{trip_id}/items", headers=item_keyed, json=item_body)
        for _ in range(2)
    ]
    assert [r.status_code for r in items] == [201, 200], items[-1].text
    assert items[0].json()["item"]["id"] == items[1].json()["item"]["id"]

    copy_keyed = _keyed(ana)
    copies = [
        await http.post(f"/api/v1/trips/{trip_id}:duplicate", headers=copy_keyed, json={})
        for _ in range(2)
    ]
    assert [r.status_code for r in copies] == [200, 200], copies[-1].text
    copy_id = copies[0].json()["trip"]["id"]
    assert copies[1].json()["trip"]["id"] == copy_id != trip_id

    assert (await http.delete(f"/api/v1/trips/{copy_id}", headers=ana.headers)).status_code == 200
    gone = await http.post(f"/api/v1/trips/{trip_id}:duplicate", headers=copy_keyed, json={})
    assert gone.status_code == 400
    assert "since been deleted" in gone.json()["error"]["message"]
