"""Page tokens are authenticated (issue 8 item 15): an edited token is a 400 naming
page_token on every list, never a 500 and never a page from a position the service did
not write. Over the gateway, for trips, items, activity, collaborators and API keys."""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from tests.support.accounts import Account, register, unique_email, verified
from tests.support.errors import http_field_violations
from tests.support.suite import RunningSuite

pytestmark = pytest.mark.database

ListPath = Callable[[httpx.AsyncClient, Account], Awaitable[str]]


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def split(token: str) -> tuple[dict[str, Any], str]:
    """The position a token shows, and whatever follows it (the tag)."""
    body, dot, tag = token.partition(".")
    return json.loads(_unb64(body)), dot + tag


def rebuilt(payload: dict[str, Any], suffix: str) -> str:
    return _b64(json.dumps(payload).encode()) + suffix


async def _trips(http: httpx.AsyncClient, ana: Account) -> str:
    for title in ("One", "Two", "Three"):
        reply = await http.post("/api/v1/trips", json={"title": title}, headers=ana.headers)
        assert reply.status_code == 201, reply.text
    return "/api/v1/trips"


async def _a_trip_with_items(http: httpx.AsyncClient, ana: Account) -> str:
    reply = await http.post("/api/v1/trips", json={"title": "Lisbon"}, headers=ana.headers)
    trip_id = reply.json()["trip"]["id"]
    for title in ("Tram", "Dinner", "Museum"):
        reply = await http.post(
            f"/api/v1/trips/{trip_id}/items",
            json={"title": title, "kind": "ITINERARY_ITEM_KIND_ACTIVITY"},
            headers=ana.headers,
        )
        assert reply.status_code == 201, reply.text
    return f"/api/v1/trips/{trip_id}"


async def _items(http: httpx.AsyncClient, ana: Account) -> str:
    return await _a_trip_with_items(http, ana) + "/items"


async def _activity(http: httpx.AsyncClient, ana: Account) -> str:
    return await _a_trip_with_items(http, ana) + "/activity"


async def _collaborators(http: httpx.AsyncClient, ana: Account) -> str:
    reply = await http.post("/api/v1/trips", json={"title": "Porto"}, headers=ana.headers)
    trip_id = reply.json()["trip"]["id"]
    for _ in range(3):
        reply = await http.post(
            f"/api/v1/trips/{trip_id}/collaborators",
            json={"email": unique_email("friend"), "role": "COLLABORATOR_ROLE_VIEW"},
            headers=ana.headers,
        )
        assert reply.status_code == 200, reply.text
    return f"/api/v1/trips/{trip_id}/collaborators"


async def _api_keys(http: httpx.AsyncClient, ana: Account) -> str:
    for name in ("ci", "backup", "cron"):
        reply = await http.post("/api/v1/api-keys", json={"name": name}, headers=ana.headers)
        assert reply.status_code == 201, reply.text
    return "/api/v1/api-keys"


LISTS: dict[str, ListPath] = {
    "trips": _trips,
    "items": _items,
    "activity": _activity,
    "collaborators": _collaborators,
    "api keys": _api_keys,
}


async def two_tokens(http: httpx.AsyncClient, ana: Account, path: str) -> tuple[str, str]:
    first = await http.get(path, params={"pageSize": 1}, headers=ana.headers)
    assert first.status_code == 200, first.text
    token = first.json()["nextPageToken"]
    second = await http.get(path, params={"pageSize": 1, "pageToken": token}, headers=ana.headers)
    assert second.status_code == 200, second.text
    return token, second.json()["nextPageToken"]


def assert_page_token_refused(reply: httpx.Response, edit: str) -> None:
    assert reply.status_code == 400, (edit, reply.text)
    assert list(http_field_violations(reply)) == ["page_token"], (edit, reply.text)


@pytest.mark.parametrize("kind", LISTS)
async def test_an_edited_page_token_is_a_400_on_every_list(
    suite: RunningSuite, http: httpx.AsyncClient, kind: str
) -> None:
    ana = await verified(suite, await register(suite.address("auth"), "ana"))
    path = await LISTS[kind](http, ana)
    first, second = await two_tokens(http, ana, path)
    payload, suffix = split(first)
    later, _ = split(second)
    out_of_range = {key: (value if key == "f" else 10**30) for key, value in payload.items()}
    forged = {
        # Another position the service wrote, under the first token's tag.
        "moved": rebuilt(later, suffix),
        "out of range": rebuilt(out_of_range, suffix),
        "not a string": rebuilt({key: [value] for key, value in payload.items()}, suffix),
        "tag cut": first.partition(".")[0] + ".",
        # A fully significant character of the tag (the last one carries padding bits).
        "tag flipped": first[:-5] + ("A" if first[-5] != "A" else "B") + first[-4:],
    }
    for name, token in forged.items():
        reply = await http.get(
            path, params={"pageSize": 1, "pageToken": token}, headers=ana.headers
        )
        assert_page_token_refused(reply, name)
    # The genuine tokens still page on.
    reply = await http.get(path, params={"pageSize": 1, "pageToken": second}, headers=ana.headers)
    assert reply.status_code == 200, reply.text
