"""WatchTrip over the gateway: live changes to members across replicas of trips and of the
gateway, final events when access ends, resumption, disconnects, heartbeats, NDJSON."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass

import asyncpg
import httpx
import jwt
import pytest
import pytest_asyncio

from tests.support.accounts import PASSWORD, register, verified
from tests.support.suite import JWT_SECRET, RunningSuite
from tests.support.trips import Cast, create_trip, share
from tests.support.watch import (
    Event,
    StreamReader,
    TripsReplica,
    start_gateway,
    start_trips_replica,
    watching,
)
from tripsage.trips.v1 import trip_service_pb2_grpc as pb_grpc
from tripsage_core.identity import CLOCK_SKEW_SECONDS

pytestmark = pytest.mark.database

# The bound: a change reaches every watcher within this many seconds.
LIVE_WITHIN = 0.2
HEARTBEAT = 0.3


@dataclass
class Front:
    """Two trips replicas on one database, a gateway in front of each."""

    a: TripsReplica
    b: TripsReplica
    http_a: httpx.AsyncClient
    http_b: httpx.AsyncClient
    # A third gateway (to A) with the default 15 s heartbeat: only noticing the client's
    # disconnect, not a failed write, can end its calls within a second.
    http_quiet: httpx.AsyncClient


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def cast(suite: RunningSuite) -> Cast:
    return await Cast.register(suite)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def front(suite: RunningSuite) -> AsyncIterator[Front]:
    async with AsyncExitStack() as stack:
        a = await start_trips_replica(suite, stack)
        b = await start_trips_replica(suite, stack)
        url_a = await start_gateway(suite, stack, a.address, stream_heartbeat=HEARTBEAT)
        url_b = await start_gateway(suite, stack, b.address, stream_heartbeat=HEARTBEAT)
        http_a = await stack.enter_async_context(httpx.AsyncClient(base_url=url_a, timeout=10))
        http_b = await stack.enter_async_context(httpx.AsyncClient(base_url=url_b, timeout=10))
        url_quiet = await start_gateway(suite, stack, a.address)
        quiet = await stack.enter_async_context(httpx.AsyncClient(base_url=url_quiet, timeout=10))
        yield Front(a, b, http_a, http_b, quiet)


def watch_path(trip_id: str) -> str:
    return f"/api/v1/trips/{trip_id}:watch"


async def add_item(
    http: httpx.AsyncClient, headers: dict[str, str], trip_id: str, title: str
) -> str:
    made = await http.post(
        f"/api/v1/trips/{trip_id}/items",
        json={"kind": "ITINERARY_ITEM_KIND_ACTIVITY", "title": title},
        headers=headers,
    )
    assert made.status_code == 201, made.text
    return str(made.json()["item"]["id"])


async def changed(reader: StreamReader, timeout: float = 5.0) -> Event:
    event = await reader.next(timeout)
    assert event.data["kind"] == "TRIP_EVENT_KIND_CHANGED", event
    return event


async def no_more(reader: StreamReader, seconds: float = 0.5) -> None:
    await asyncio.sleep(seconds)
    assert reader.drain() == []


async def test_members_see_each_others_changes_across_replicas_within_the_bound(
    trips: pb_grpc.TripServiceAsyncStub, front: Front, cast: Cast
) -> None:
    trip = await create_trip(trips, cast.owner, title="Porto")
    await share(trips, cast.owner, trip.id, cast.edit, "edit")
    # The owner watches through gateway A (trips replica A), the editor through B.
    async with (
        watching(front.http_a, watch_path(trip.id), cast.owner.headers) as owner,
        watching(front.http_b, watch_path(trip.id), cast.edit.headers) as editor,
    ):
        assert owner.status == 200
        assert editor.status == 200
        assert owner.headers["content-type"].startswith("text/event-stream")
        # The editor writes through A: the owner (on A) and the editor (on B) hear it.
        item_id = await add_item(front.http_a, cast.edit.headers, trip.id, "Livraria Lello")
        written = time.perf_counter()
        for reader in (owner, editor):
            event = await changed(reader)
            assert event_at(event) - written < LIVE_WITHIN
            assert event.data["resource"] == f"trips/{trip.id}/items/{item_id}"
            assert event.data["activity"]["kind"] == "TRIP_ACTIVITY_KIND_ITEM_ADDED"
            assert event.data["activity"]["actorId"] == cast.edit.id
            assert event.id == event.data["eventId"]
            assert event.id
        # The owner writes through B: both hear that too, within the bound.
        renamed = await front.http_b.patch(
            f"/api/v1/trips/{trip.id}",
            json={"title": "Porto and Douro"},
            headers=cast.owner.headers,
            params={"updateMask": "title"},
        )
        assert renamed.status_code == 200, renamed.text
        written = time.perf_counter()
        for reader in (owner, editor):
            event = await changed(reader)
            assert event_at(event) - written < LIVE_WITHIN
            assert event.data["activity"]["kind"] == "TRIP_ACTIVITY_KIND_TRIP_UPDATED"
            assert event.data["resource"] == f"trips/{trip.id}"
        # Another trip's changes never reach these streams.
        other = await create_trip(trips, cast.owner, title="Elsewhere")
        await add_item(front.http_a, cast.owner.headers, other.id, "not here")
        await no_more(owner)
        await no_more(editor, 0)


def event_at(event: Event) -> float:
    return float(event._at)  # type: ignore[attr-defined]


async def test_who_may_watch_and_bad_input(
    trips: pb_grpc.TripServiceAsyncStub, front: Front, cast: Cast
) -> None:
    trip = await create_trip(trips, cast.owner, title="Private")
    async with watching(front.http_a, watch_path(trip.id), cast.stranger.headers) as stranger:
        assert stranger.status == 404, stranger.body
    async with watching(front.http_a, watch_path(trip.id), {}) as anonymous:
        assert anonymous.status == 401
    async with watching(front.http_a, watch_path("not-a-uuid"), cast.owner.headers) as bad:
        assert bad.status == 400
        assert b"trip_id" in bad.body
    for headers, query in (({"last-event-id": "abc"}, ""), ({}, "?lastEventId=12%2000")):
        path = watch_path(trip.id) + query
        async with watching(front.http_a, path, {**cast.owner.headers, **headers}) as resumed:
            assert resumed.status == 400, resumed.body
            assert b"last_event_id" in resumed.body, resumed.body
    async with watching(
        front.http_a, watch_path(trip.id), {**cast.owner.headers, "last-event-id": "7" * 200}
    ) as control:
        assert control.status == 400
        assert b"Last-Event-ID" in control.body
    # An id beyond the trip's log is not one of its events.
    async with watching(
        front.http_a, watch_path(trip.id), {**cast.owner.headers, "last-event-id": "9" * 18}
    ) as ahead:
        assert ahead.status == 400
        assert b"last_event_id" in ahead.body
    assert front.a.feed.watcher_count == 0


async def test_a_removed_collaborator_gets_a_final_event_and_nothing_after(
    trips: pb_grpc.TripServiceAsyncStub, front: Front, cast: Cast
) -> None:
    trip = await create_trip(trips, cast.owner, title="Seville")
    invitation = await share(trips, cast.owner, trip.id, cast.view, "view")
    async with (
        watching(front.http_a, watch_path(trip.id), cast.owner.headers) as owner,
        watching(front.http_b, watch_path(trip.id), cast.view.headers) as viewer,
    ):
        removed = await front.http_b.delete(
            f"/api/v1/trips/{trip.id}/collaborators/{invitation.id}", headers=cast.owner.headers
        )
        assert removed.status_code == 200, removed.text
        final = await viewer.next()
        assert final.data["kind"] == "TRIP_EVENT_KIND_ACCESS_ENDED"
        async with asyncio.timeout(2):
            await viewer.ended.wait()
        # The owner saw the removal; the removed viewer never sees changes after it.
        event = await changed(owner)
        assert event.data["activity"]["kind"] == "TRIP_ACTIVITY_KIND_COLLABORATOR_REMOVED"
        await add_item(front.http_a, cast.owner.headers, trip.id, "after they left")
        await changed(owner)
        assert viewer.drain() == []
        # Deleting the trip ends the owner's stream with TRIP_DELETED.
        deleted = await front.http_a.delete(f"/api/v1/trips/{trip.id}", headers=cast.owner.headers)
        assert deleted.status_code == 200, deleted.text
        last = await owner.next()
        assert last.data["kind"] == "TRIP_EVENT_KIND_TRIP_DELETED"
        async with asyncio.timeout(2):
            await owner.ended.wait()
    await wait_for_no_watchers(front)


async def test_reconnecting_with_the_last_event_id_replays_exactly_what_was_missed(
    trips: pb_grpc.TripServiceAsyncStub, front: Front, cast: Cast
) -> None:
    trip = await create_trip(trips, cast.owner, title="Bologna")
    async with watching(front.http_a, watch_path(trip.id), cast.owner.headers) as first:
        await add_item(front.http_a, cast.owner.headers, trip.id, "seen")
        seen = await changed(first)
    missed = [
        await add_item(front.http_b, cast.owner.headers, trip.id, f"missed {n}") for n in range(3)
    ]
    headers = {**cast.owner.headers, "last-event-id": seen.id}
    async with watching(front.http_b, watch_path(trip.id), headers) as again:
        replayed = [await changed(again) for _ in missed]
        assert [e.data["resource"].rsplit("/", 1)[-1] for e in replayed] == missed
        ids = [int(e.id) for e in replayed]
        assert ids == sorted(ids)
        assert ids[0] > int(seen.id)
        # Then live.
        live = await add_item(front.http_a, cast.owner.headers, trip.id, "live")
        live_event = await changed(again)
        assert live_event.data["resource"].endswith(live)
        await no_more(again, 0.3)
    # The query parameter resumes the same way (for clients that cannot set headers).
    path = f"{watch_path(trip.id)}?lastEventId={replayed[1].id}"
    async with watching(front.http_a, path, cast.owner.headers) as by_query:
        assert [(await changed(by_query)).id for _ in range(2)] == [replayed[2].id, live_event.id]
        await no_more(by_query, 0.3)


async def test_idle_streams_send_heartbeats(
    trips: pb_grpc.TripServiceAsyncStub, front: Front, cast: Cast
) -> None:
    trip = await create_trip(trips, cast.owner, title="Ghent")
    for ndjson in (False, True):
        async with watching(
            front.http_a, watch_path(trip.id), cast.owner.headers, ndjson=ndjson
        ) as reader:
            assert reader.status == 200
            expected = "application/x-ndjson" if ndjson else "text/event-stream"
            assert reader.headers["content-type"].startswith(expected)
            # Idle: heartbeats keep the connection (an SSE comment, an NDJSON blank line).
            await asyncio.sleep(HEARTBEAT * 3.5)
            assert reader.heartbeats >= 2
            item = await add_item(front.http_a, cast.owner.headers, trip.id, "x")
            event = await reader.next()
            assert event.data["kind"] == "TRIP_EVENT_KIND_CHANGED"
            assert event.data["resource"].endswith(item)
            if ndjson:
                assert event.id == ""  # NDJSON has no id line: the id is in the object
                assert event.data["eventId"]
    await wait_for_no_watchers(front)


async def test_disconnecting_cancels_the_call_within_a_second(
    trips: pb_grpc.TripServiceAsyncStub, front: Front, cast: Cast
) -> None:
    trip = await create_trip(trips, cast.owner, title="Ghent")
    for ndjson in (False, True):
        async with watching(
            front.http_quiet, watch_path(trip.id), cast.owner.headers, ndjson=ndjson
        ) as reader:
            assert reader.status == 200
            assert front.a.feed.watcher_count == 1
            await add_item(front.http_a, cast.owner.headers, trip.id, "x")
            assert (await reader.next()).data["kind"] == "TRIP_EVENT_KIND_CHANGED"
        # The client went away on an idle stream (next heartbeat 15 s off): the trips
        # replica's watch, and so the gRPC call, is gone within a second.
        dropped = time.perf_counter()
        await wait_for_no_watchers(front)
        assert time.perf_counter() - dropped < 1.0


async def test_concurrent_writers_arrive_in_order_and_all_of_them(
    trips: pb_grpc.TripServiceAsyncStub, front: Front, cast: Cast
) -> None:
    trip = await create_trip(trips, cast.owner, title="Busy")
    await share(trips, cast.owner, trip.id, cast.edit, "edit")
    async with watching(front.http_b, watch_path(trip.id), cast.owner.headers) as reader:
        writers = [
            add_item(http, who.headers, trip.id, f"item {n}")
            for n in range(6)
            for http, who in ((front.http_a, cast.owner), (front.http_b, cast.edit))
        ]
        made = set(await asyncio.gather(*writers))
        events = [await changed(reader) for _ in made]
        ids = [int(e.id) for e in events]
        # seq is drawn under the trip's row lock: commit order, so ids only increase.
        assert ids == sorted(ids)
        assert len(set(ids)) == len(ids)
        assert {e.data["resource"].rsplit("/", 1)[-1] for e in events} == made
        await no_more(reader, 0.3)


async def test_a_replica_refuses_watches_beyond_its_limit(
    suite: RunningSuite, trips: pb_grpc.TripServiceAsyncStub, cast: Cast
) -> None:
    trip = await create_trip(trips, cast.owner, title="Crowded")
    async with AsyncExitStack() as stack:
        small = await start_trips_replica(suite, stack, max_watchers=1)
        url = await start_gateway(suite, stack, small.address)
        http = await stack.enter_async_context(httpx.AsyncClient(base_url=url, timeout=10))
        async with watching(http, watch_path(trip.id), cast.owner.headers) as first:
            assert first.status == 200
            async with watching(http, watch_path(trip.id), cast.owner.headers) as second:
                assert second.status == 503
                assert b"WATCH_LIMIT" in second.body
                assert "retry-after" in second.headers
        deadline = time.perf_counter() + 1
        while small.feed.watcher_count:
            assert time.perf_counter() < deadline
            await asyncio.sleep(0.02)
        async with watching(http, watch_path(trip.id), cast.owner.headers) as later:
            assert later.status == 200


@pytest.mark.parametrize("ndjson", [False, True], ids=["sse", "ndjson"])
async def test_signing_out_ends_the_stream(
    suite: RunningSuite, trips: pb_grpc.TripServiceAsyncStub, front: Front, ndjson: bool
) -> None:
    member = await verified(suite, await register(suite.address("auth"), "leaver"))
    login = await front.http_a.post(
        "/api/v1/auth/login", json={"email": member.email, "password": PASSWORD}
    )
    session = login.json()
    headers = {"authorization": f"Bearer {session['accessToken']}"}
    trip = await create_trip(trips, member, title="Short")
    async with watching(front.http_a, watch_path(trip.id), headers, ndjson=ndjson) as reader:
        assert reader.status == 200
        out = await front.http_a.post(
            "/api/v1/auth/logout", json={"refreshToken": session["refreshToken"]}, headers=headers
        )
        assert out.status_code == 200, out.text
        error = await reader.next(timeout=5)
        # SSE: an `event: error`; NDJSON: a last {"error": ...} line.
        assert error.event == ("" if ndjson else "error")
        assert error.data["error"]["code"] == 401
        async with asyncio.timeout(2):
            await reader.ended.wait()
    await wait_for_no_watchers(front)


async def test_the_token_expiring_ends_the_stream(
    trips: pb_grpc.TripServiceAsyncStub, front: Front, cast: Cast
) -> None:
    trip = await create_trip(trips, cast.owner, title="Brief")
    # Valid for about three more seconds: `exp` plus the verifier's clock-skew leeway.
    now = int(time.time())
    claims = {"iss": "tripsage", "sub": cast.owner.id, "email": cast.owner.email,
              "aud": "authenticated", "role": "authenticated", "iat": now - 100,
              "exp": now - CLOCK_SKEW_SECONDS + 3, "session_id": str(uuid.uuid4())}  # fmt: skip
    headers = {"authorization": f"Bearer {jwt.encode(claims, JWT_SECRET, algorithm='HS256')}"}
    async with watching(front.http_b, watch_path(trip.id), headers) as reader:
        assert reader.status == 200
        error = await reader.next(timeout=8)
        assert error.event == "error"
        assert error.data["error"]["code"] == 401
        assert time.time() >= now + 3
        async with asyncio.timeout(2):
            await reader.ended.wait()
    await wait_for_no_watchers(front)


async def test_a_lost_listening_connection_misses_nothing(
    suite: RunningSuite, trips: pb_grpc.TripServiceAsyncStub, front: Front, cast: Cast
) -> None:
    trip = await create_trip(trips, cast.owner, title="Resilient")
    assert suite.settings.postgres_url is not None
    async with watching(front.http_a, watch_path(trip.id), cast.owner.headers) as reader:
        admin = await asyncpg.connect(suite.settings.postgres_url.get_secret_value())
        try:
            ended = await admin.fetch(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = 'tripsage-trips-watch'"
            )
        finally:
            await admin.close()
        assert ended
        # Written while the replicas may not be listening: the watcher still gets it
        # (polling the log, then catching up on reconnecting), once.
        item = await add_item(front.http_b, cast.owner.headers, trip.id, "during the outage")
        event = await changed(reader, timeout=5)
        assert event.data["resource"].endswith(item)
        deadline = time.perf_counter() + 5
        while not front.a.feed.live:
            assert time.perf_counter() < deadline, "the change feed did not reconnect"
            await asyncio.sleep(0.05)
        # Live again: within the bound.
        await add_item(front.http_b, cast.owner.headers, trip.id, "after")
        written = time.perf_counter()
        assert event_at(await changed(reader)) - written < LIVE_WITHIN
        await no_more(reader, 0.3)


async def wait_for_no_watchers(front: Front, within: float = 1.0) -> None:
    deadline = time.perf_counter() + within
    while front.a.feed.watcher_count or front.b.feed.watcher_count:
        assert time.perf_counter() < deadline, "a watch outlived its client"
        await asyncio.sleep(0.02)
