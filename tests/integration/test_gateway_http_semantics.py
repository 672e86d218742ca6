"""Real HTTP on the gateway's answers, over real HTTP against the real services: ETag,
If-Match (412), If-None-Match (304), 201 + Location (200 on an idempotent replay),
Cache-Control: no-store, downloads served as files, and request handling (bad JSON,
wrong types, unknown fields, 413, both spellings, repeated and nested query fields)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import httpx
import pytest
from icalendar import Calendar

from tests.support.accounts import Account, register
from tests.support.suite import RunningSuite
from tripsage.travel.v1 import travel_service_pb2 as travel_pb
from tripsage.travel.v1 import travel_service_pb2_grpc as travel_grpc

pytestmark = pytest.mark.database

TRIP = {"title": "Ghent", "startDate": "2027-05-01", "endDate": "2027-05-04"}


@pytest.fixture
async def ana(suite: RunningSuite) -> Account:
    return await register(suite.address("auth"), "http-semantics")


async def _trip(http: httpx.AsyncClient, account: Account, **fields: Any) -> dict[str, Any]:
    reply = await http.post("/api/v1/trips", headers=account.headers, json={**TRIP, **fields})
    assert reply.status_code == 201, reply.text
    trip: dict[str, Any] = reply.json()["trip"]
    return trip


def _violations(reply: httpx.Response) -> dict[str, str]:
    found: dict[str, str] = {}
    for detail in reply.json()["error"]["details"]:
        for violation in detail.get("fieldViolations", ()):
            found[violation["field"]] = violation["description"]
    return found


async def test_a_resource_carries_its_etag_and_if_none_match_answers_304(
    suite: RunningSuite, http: httpx.AsyncClient, ana: Account
) -> None:
    trip = await _trip(http, ana)
    path = f"/api/v1/trips/{trip['id']}"
    reply = await http.get(path, headers=ana.headers)
    assert reply.status_code == 200, reply.text
    etag = reply.json()["trip"]["etag"]
    assert etag  # the body keeps its etag too
    assert reply.headers["etag"] == f'"{etag}"'
    for condition in (f'"{etag}"', f'W/"{etag}"', f'"nope", "{etag}"', "*"):
        cached = await http.get(path, headers={**ana.headers, "if-none-match": condition})
        assert cached.status_code == 304, (condition, cached.text)
        assert cached.content == b""
        assert cached.headers["etag"] == f'"{etag}"'
    for condition in ('"nope"', 'W/"nope"', "not quoted"):
        fresh = await http.get(path, headers={**ana.headers, "if-none-match": condition})
        assert fresh.status_code == 200, condition
        assert fresh.json()["trip"]["id"] == trip["id"]
    # Another caller who may not see the trip learns nothing from a condition.
    bob = await register(suite.address("auth"), "http-semantics-bob")
    hidden = await http.get(path, headers={**bob.headers, "if-none-match": "*"})
    assert hidden.status_code == 404
    # A change moves the etag on: the old one no longer gives 304.
    changed = await http.patch(path, headers=ana.headers, json={"title": "Ghent again"})
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == f'"{changed.json()["trip"]["etag"]}"' != f'"{etag}"'
    stale = await http.get(path, headers={**ana.headers, "if-none-match": f'"{etag}"'})
    assert stale.status_code == 200


async def test_if_match_fills_the_etag_and_a_stale_one_is_412(
    http: httpx.AsyncClient, ana: Account
) -> None:
    trip = await _trip(http, ana)
    path = f"/api/v1/trips/{trip['id']}"
    first = trip["etag"]
    updated = await http.patch(
        path, headers={**ana.headers, "if-match": f'"{first}"'}, json={"title": "Bruges"}
    )
    assert updated.status_code == 200, updated.text
    second = updated.json()["trip"]["etag"]
    assert second != first
    assert updated.headers["etag"] == f'"{second}"'
    # The same If-Match again is stale now: 412, and nothing changes.
    again = await http.patch(
        path, headers={**ana.headers, "if-match": f'"{first}"'}, json={"title": "Antwerp"}
    )
    assert again.status_code == 412, again.text
    assert again.json()["error"]["code"] == 412
    assert again.json()["error"]["status"] == "ABORTED"  # what the service said
    assert again.json()["error"]["details"][0]["reason"] == "STALE_ETAG"
    # A stale etag in the body stays the status table's 409.
    in_body = await http.patch(path, headers=ana.headers, json={"title": "Antwerp", "etag": first})
    assert in_body.status_code == 409, in_body.text
    # The body's own etag wins over the header's.
    both = await http.patch(
        path,
        headers={**ana.headers, "if-match": f'"{first}"'},
        json={"title": "Leuven", "etag": second},
    )
    assert both.status_code == 200, both.text
    third = both.json()["trip"]["etag"]
    # Weak tags never match (strong comparison); "*" matches any current version.
    weak = await http.patch(
        path, headers={**ana.headers, "if-match": f'W/"{third}"'}, json={"title": "Mons"}
    )
    assert weak.status_code == 412
    star = await http.patch(path, headers={**ana.headers, "if-match": "*"}, json={"title": "Mons"})
    assert star.status_code == 200, star.text
    malformed = await http.patch(
        path, headers={**ana.headers, "if-match": "no quotes"}, json={"title": "Namur"}
    )
    assert malformed.status_code == 400
    assert "If-Match" in _violations(malformed)
    current = (await http.get(path, headers=ana.headers)).json()["trip"]
    assert current["title"] == "Mons"
    # Deletes (a top-level etag field) take If-Match too.
    gone = await http.delete(path, headers={**ana.headers, "if-match": f'"{third}"'})
    assert gone.status_code == 412, gone.text
    deleted = await http.delete(path, headers={**ana.headers, "if-match": f'"{current["etag"]}"'})
    assert deleted.status_code == 200, deleted.text
    assert (await http.get(path, headers=ana.headers)).status_code == 404


async def test_creates_answer_201_with_location_and_200_on_a_replay(
    http: httpx.AsyncClient, ana: Account
) -> None:
    keyed = {**ana.headers, "idempotency-key": f"k-{uuid.uuid4()}"}
    first = await http.post("/api/v1/trips", headers=keyed, json=TRIP)
    assert first.status_code == 201, first.text
    trip_id = first.json()["trip"]["id"]
    assert first.headers["location"] == f"/api/v1/trips/{trip_id}"
    assert first.headers["etag"] == f'"{first.json()["trip"]["etag"]}"'
    replay = await http.post("/api/v1/trips", headers=keyed, json=TRIP)
    assert replay.status_code == 200, replay.text
    assert replay.json()["trip"]["id"] == trip_id
    assert "location" not in replay.headers
    fetched = await http.get(first.headers["location"], headers=ana.headers)
    assert fetched.status_code == 200
    assert fetched.json()["trip"]["id"] == trip_id
    # A nested collection: the item's path under its trip.
    item_keyed = {**ana.headers, "idempotency-key": f"k-{uuid.uuid4()}"}
    body = {"kind": "ITINERARY_ITEM_KIND_ACTIVITY", "title": "Gravensteen"}
    item = await http.post(f"/api/v1/trips/{trip_id}/items", headers=item_keyed, json=body)
    assert item.status_code == 201, item.text
    item_id = item.json()["item"]["id"]
    assert item.headers["location"] == f"/api/v1/trips/{trip_id}/items/{item_id}"
    assert (await http.get(item.headers["location"], headers=ana.headers)).status_code == 200
    item_again = await http.post(f"/api/v1/trips/{trip_id}/items", headers=item_keyed, json=body)
    assert item_again.status_code == 200
    assert item_again.json()["item"]["id"] == item_id
    # Not a create: custom methods keep 200.
    copied = await http.post(f"/api/v1/trips/{trip_id}:duplicate", headers=ana.headers, json={})
    assert copied.status_code == 200, copied.text
    assert "location" not in copied.headers


async def test_authenticated_answers_are_never_stored(
    http: httpx.AsyncClient, ana: Account
) -> None:
    trip = await _trip(http, ana)
    ok = await http.get(f"/api/v1/trips/{trip['id']}", headers=ana.headers)
    assert ok.headers["cache-control"] == "no-store"
    missing = await http.get(f"/api/v1/trips/{uuid.uuid4()}", headers=ana.headers)
    assert missing.status_code == 404
    assert missing.headers["cache-control"] == "no-store"
    bad_token = await http.get("/api/v1/users/me", headers={"authorization": "Bearer x.y.z"})
    assert bad_token.status_code == 401
    assert bad_token.headers["cache-control"] == "no-store"
    api_key = await http.get("/api/v1/users/me", headers={"x-api-key": "tsk_not_a_key"})
    assert api_key.headers["cache-control"] == "no-store"
    own = await http.get("/api/openapi.json", headers=ana.headers)
    assert own.headers["cache-control"] == "no-store"
    anonymous = await http.get("/api/openapi.json")
    assert anonymous.headers.get("cache-control") != "no-store"


async def test_exports_are_files_with_their_media_type_and_name(
    suite: RunningSuite, http: httpx.AsyncClient, ana: Account
) -> None:
    trip = await _trip(http, ana, title="Belém / Porto")
    path = f"/api/v1/trips/{trip['id']}:export"
    item = {
        "kind": "ITINERARY_ITEM_KIND_ACTIVITY",
        "title": "Torre",
        "startTime": "2027-05-02T09:00:00Z",
        "endTime": "2027-05-02T10:00:00Z",
    }
    added = await http.post(f"/api/v1/trips/{trip['id']}/items", headers=ana.headers, json=item)
    assert added.status_code == 201, added.text
    ical = await http.post(path, headers=ana.headers, json={"format": "EXPORT_FORMAT_ICAL"})
    assert ical.status_code == 200, ical.text
    assert ical.headers["content-type"].startswith("text/calendar")
    # A safe ASCII name, and the exact one (no path separator) as RFC 6266 filename*.
    assert ical.headers["content-disposition"] == (
        "attachment; filename=\"Belem _ Porto.ics\"; filename*=UTF-8''Bel%C3%A9m%20_%20Porto.ics"
    )
    assert ical.headers["cache-control"] == "no-store"
    events = Calendar.from_ical(ical.content).walk("VEVENT")
    assert [str(event["summary"]) for event in events] == ["Torre"]
    as_json = await http.post(path, headers=ana.headers, json={"format": "EXPORT_FORMAT_JSON"})
    assert as_json.status_code == 200, as_json.text
    assert as_json.headers["content-type"].startswith("application/json")
    assert 'filename="Belem _ Porto.json"' in as_json.headers["content-disposition"]
    document = json.loads(as_json.content)
    assert document["trip"]["title"] == "Belém / Porto"  # the document, not an envelope
    assert [i["title"] for i in document["items"]] == ["Torre"]
    untitled = await _trip(http, ana, title="#")
    named = await http.post(f"/api/v1/trips/{untitled['id']}:export", headers=ana.headers, json={})
    assert named.status_code == 200, named.text
    assert 'filename="#.json"' in named.headers["content-disposition"]
    stranger = await register(suite.address("auth"), "http-semantics-stranger")
    hidden = await http.post(path, headers=stranger.headers, json={})
    assert hidden.status_code == 404
    assert hidden.headers["content-type"].startswith("application/json")


async def test_bad_bodies_are_400_naming_the_problem(http: httpx.AsyncClient, ana: Account) -> None:
    json_headers = {**ana.headers, "content-type": "application/json"}
    broken = await http.post("/api/v1/trips", headers=json_headers, content=b'{"title": ')
    assert broken.status_code == 400
    assert "not valid JSON" in broken.json()["error"]["message"]
    assert broken.json()["error"]["details"][0]["reason"] == "MALFORMED_JSON"
    wrong = await http.post("/api/v1/trips", headers=ana.headers, json={**TRIP, "title": 5})
    assert wrong.status_code == 400
    assert "title" in _violations(wrong)
    travellers = await http.post(
        "/api/v1/trips", headers=ana.headers, json={**TRIP, "travelers": "x"}
    )
    assert travellers.status_code == 400
    assert "travelers" in _violations(travellers)
    unknown = await http.post("/api/v1/trips", headers=ana.headers, json={**TRIP, "colour": "red"})
    assert unknown.status_code == 400
    assert _violations(unknown) == {"colour": 'unknown field "colour"'}
    nested = await http.post(
        "/api/v1/trips",
        headers=ana.headers,
        json={**TRIP, "destinations": [{"name": "Ghent"}, {"name": "Bruges", "cityy": "x"}]},
    )
    assert nested.status_code == 400
    assert "destinations[1].cityy" in _violations(nested)
    for not_object in (b"[1, 2]", b"[]", b"null", b'"Ghent"', b"7"):
        refused = await http.post("/api/v1/trips", headers=json_headers, content=not_object)
        assert refused.status_code == 400, not_object
        assert refused.json()["error"]["message"] == "request body must be a JSON object"
    one_place = await http.post(
        "/api/v1/trips", headers=ana.headers, json={**TRIP, "destinations": {"name": "Ghent"}}
    )
    assert _violations(one_place) == {"destinations": "expected a list"}
    twice = await http.post(
        "/api/v1/trips", headers=ana.headers, json={**TRIP, "start_date": "2027-05-02"}
    )
    assert twice.status_code == 400
    assert "name the same field" in twice.json()["error"]["message"]


async def test_both_spellings_are_accepted_in_bodies_and_queries(
    http: httpx.AsyncClient, ana: Account
) -> None:
    snake = await http.post(
        "/api/v1/trips",
        headers=ana.headers,
        json={"title": "Snake", "start_date": "2027-06-01", "end_date": "2027-06-02"},
    )
    assert snake.status_code == 201, snake.text
    assert snake.json()["trip"]["startDate"] == "2027-06-01"
    await _trip(http, ana, title="Camel")
    for name in ("pageSize", "page_size"):
        page = await http.get("/api/v1/trips", headers=ana.headers, params={name: 1})
        assert page.status_code == 200, page.text
        assert len(page.json()["trips"]) == 1
        assert page.json()["nextPageToken"]
    for name in ("startDateFrom", "start_date_from"):
        june = await http.get("/api/v1/trips", headers=ana.headers, params={name: "2027-06-01"})
        assert [t["title"] for t in june.json()["trips"]] == ["Snake"]
    bad = await http.get("/api/v1/trips", headers=ana.headers, params={"pageSize": "many"})
    assert bad.status_code == 400
    assert "pageSize" in _violations(bad)
    unknown = await http.get("/api/v1/trips", headers=ana.headers, params={"colour": "red"})
    assert unknown.status_code == 400
    assert _violations(unknown) == {"colour": "unknown field"}
    single = await http.get("/api/v1/trips?pageSize=1&pageSize=2", headers=ana.headers)
    assert single.status_code == 400
    assert "more than once" in _violations(single)["pageSize"]


def _day(ahead: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=ahead)).isoformat()


@pytest.fixture
async def travel(suite: RunningSuite) -> AsyncIterator[travel_grpc.TravelServiceAsyncStub]:
    async with grpc.aio.insecure_channel(suite.address("travel")) as channel:
        yield travel_grpc.TravelServiceStub(channel)


async def test_query_parameters_bind_repeated_and_nested_fields(
    http: httpx.AsyncClient, ana: Account, travel: travel_grpc.TravelServiceAsyncStub
) -> None:
    found = await travel.SearchAccommodations(
        travel_pb.SearchAccommodationsRequest(
            destination="Paris", check_in_date=_day(15), check_out_date=_day(17)
        ),
        metadata=ana.metadata,
    )
    stay = found.accommodations[0]
    family = await travel.GetAccommodation(
        travel_pb.GetAccommodationRequest(
            accommodation_id=stay.id, adults=2, child_ages=[4, 9], rooms=2
        ),
        metadata=ana.metadata,
    )
    expected = family.accommodation.total_price.units
    alone = await http.get(f"/api/v1/accommodations/{stay.id}", headers=ana.headers)
    assert int(alone.json()["accommodation"]["totalPrice"]["units"]) != expected
    for query in (
        "adults=2&rooms=2&childAges=4&childAges=9",
        "adults=2&rooms=2&child_ages=4&child_ages=9",
    ):
        reply = await http.get(f"/api/v1/accommodations/{stay.id}?{query}", headers=ana.headers)
        assert reply.status_code == 200, reply.text
        assert int(reply.json()["accommodation"]["totalPrice"]["units"]) == expected
    wrong = await http.get(
        f"/api/v1/accommodations/{stay.id}?adults=2&childAges=4&childAges=old",
        headers=ana.headers,
    )
    assert wrong.status_code == 400
    assert "childAges" in _violations(wrong)
    near = await http.get(
        "/api/v1/places",
        headers=ana.headers,
        params={"type": "restaurant", "location.latitude": 41.15, "location.longitude": -8.61},
    )
    assert near.status_code == 200, near.text
    assert near.json()["places"]
    off_earth = await http.get(
        "/api/v1/places",
        headers=ana.headers,
        params={"type": "restaurant", "location.latitude": "north", "location.longitude": -8.6},
    )
    assert off_earth.status_code == 400
    assert "location.latitude" in _violations(off_earth)


async def test_oversized_bodies_are_413_at_the_configured_limit(
    suite: RunningSuite, ana: Account
) -> None:
    own_url = suite.gateway_url
    small_url = await suite.start_gateway(max_body_bytes=2048)
    suite.gateway_url = own_url  # the module's other tests keep the default gateway
    description = "x" * 3000
    async with httpx.AsyncClient(base_url=small_url, timeout=30) as small:
        declared = await small.post(
            "/api/v1/trips", headers=ana.headers, json={**TRIP, "description": description}
        )
        assert declared.status_code == 413, declared.text
        assert "2048 bytes" in declared.json()["error"]["message"]
        payload = json.dumps({**TRIP, "description": description}).encode()

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(payload), 500):
                yield payload[start : start + 500]

        streamed = await small.post(
            "/api/v1/trips",
            headers={**ana.headers, "content-type": "application/json"},
            content=chunks(),  # no Content-Length: counted as it arrives
        )
        assert streamed.status_code == 413, streamed.text
        fits = await small.post("/api/v1/trips", headers=ana.headers, json=TRIP)
        assert fits.status_code == 201, fits.text
    async with httpx.AsyncClient(base_url=own_url, timeout=30) as default:
        # The default limit is 4 MiB.
        big = await default.post(
            "/api/v1/trips", headers=ana.headers, content=b" " * (4 * 1024 * 1024 + 1)
        )
        assert big.status_code == 413
        assert "4194304 bytes" in big.json()["error"]["message"]
