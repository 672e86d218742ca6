"""Data safety under concurrency (issue 15): many writers on one trip and one item with
etags lose no update, and concurrent retries of a create under one Idempotency-Key make
exactly one row, for every create RPC that takes a key."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import grpc
import pytest
from google.protobuf import field_mask_pb2

from tests.support.accounts import Account, register
from tests.support.suite import RunningSuite
from tests.support.trips import add_item, create_trip
from tripsage.assistant.v1 import assistant_service_pb2 as apb
from tripsage.assistant.v1 import assistant_service_pb2_grpc as apb_grpc
from tripsage.trips.v1 import trip_service_pb2 as pb
from tripsage.trips.v1 import trip_service_pb2_grpc as pb_grpc

pytestmark = [pytest.mark.database, pytest.mark.data_safety]

WRITERS = 12
CHANGES_PER_WRITER = 3
RETRIES = 10


async def _read_modify_write(
    read: Callable[[], Awaitable[tuple[str, str]]],
    write: Callable[[str, str], Awaitable[None]],
    tag: str,
) -> int:
    """Appends `tag` with the etag it read; a stale etag (ABORTED) reads again. Returns how
    many attempts were refused as stale."""
    for refused in range(RETRIES * WRITERS):
        text, etag = await read()
        try:
            await write(f"{text} {tag}".strip(), etag)
            return refused
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.ABORTED:
                raise
    raise AssertionError(f"{tag} was refused {RETRIES * WRITERS} times")


def _expected_tags() -> list[str]:
    return [f"w{w}c{c}" for w in range(WRITERS) for c in range(CHANGES_PER_WRITER)]


async def _writers(apply: Callable[[str], Awaitable[int]]) -> int:
    async def writer(w: int) -> int:
        return sum([await apply(f"w{w}c{c}") for c in range(CHANGES_PER_WRITER)])

    return sum(await asyncio.gather(*(writer(w) for w in range(WRITERS))))


async def test_concurrent_trip_and_item_updates_with_etags_lose_nothing(
    trips: pb_grpc.TripServiceAsyncStub, suite: RunningSuite
) -> None:
    ana = await register(suite.address("auth"), "etags")
    md = ana.metadata
    trip = await create_trip(trips, ana, title="Race")
    item = await add_item(trips, ana, trip.id)
    description = field_mask_pb2.FieldMask(paths=["description"])

    async def read_trip() -> tuple[str, str]:
        got = (await trips.GetTrip(pb.GetTripRequest(trip_id=trip.id), metadata=md)).trip
        return got.description, got.etag

    async def write_trip(text: str, etag: str) -> None:
        await trips.UpdateTrip(
            pb.UpdateTripRequest(
                trip=pb.Trip(id=trip.id, description=text, etag=etag), update_mask=description
            ),
            metadata=md,
        )

    async def read_item() -> tuple[str, str]:
        listed = await trips.ListItineraryItems(
            pb.ListItineraryItemsRequest(trip_id=trip.id), metadata=md
        )
        (got,) = listed.items
        return got.description, got.etag

    async def write_item(text: str, etag: str) -> None:
        await trips.UpdateItineraryItem(
            pb.UpdateItineraryItemRequest(
                item=pb.ItineraryItem(trip_id=trip.id, id=item.id, description=text, etag=etag),
                update_mask=description,
            ),
            metadata=md,
        )

    refused = await _writers(lambda tag: _read_modify_write(read_trip, write_trip, tag))
    refused += await _writers(lambda tag: _read_modify_write(read_item, write_item, tag))
    # Every change that was acknowledged is in the final text, exactly once.
    trip_text, _ = await read_trip()
    item_text, _ = await read_item()
    assert sorted(trip_text.split()) == sorted(_expected_tags())
    assert sorted(item_text.split()) == sorted(_expected_tags())
    assert refused > 0  # the writers really raced (each round trip overlaps eleven others)


async def _one_row_under_racing_retries(
    create: Callable[[tuple[tuple[str, str], ...]], Awaitable[str]],
    count: Callable[[], Awaitable[int]],
    account: Account,
) -> None:
    keyed = (*account.metadata, ("idempotency-key", f"race-{uuid.uuid4()}"))
    before = await count()
    ids = await asyncio.gather(*(create(keyed) for _ in range(WRITERS)))
    assert len(set(ids)) == 1, ids
    assert await count() == before + 1


async def test_racing_retries_of_every_keyed_create_make_one_row(
    trips: pb_grpc.TripServiceAsyncStub,
    assistant: apb_grpc.AssistantServiceAsyncStub,
    suite: RunningSuite,
) -> None:
    ana = await register(suite.address("auth"), "racer")
    md = ana.metadata
    source = (
        await trips.CreateTrip(pb.CreateTripRequest(trip=pb.Trip(title="Src")), metadata=md)
    ).trip

    async def trip_count() -> int:
        return len((await trips.ListTrips(pb.ListTripsRequest(page_size=100), metadata=md)).trips)

    async def item_count() -> int:
        listed = await trips.ListItineraryItems(
            pb.ListItineraryItemsRequest(trip_id=source.id), metadata=md
        )
        return len(listed.items)

    async def conversation_count() -> int:
        listed = await assistant.ListConversations(
            apb.ListConversationsRequest(page_size=100), metadata=md
        )
        return len(listed.conversations)

    async def create_trip(keyed: tuple[tuple[str, str], ...]) -> str:
        made = await trips.CreateTrip(
            pb.CreateTripRequest(trip=pb.Trip(title="One")), metadata=keyed
        )
        return made.trip.id

    async def duplicate_trip(keyed: tuple[tuple[str, str], ...]) -> str:
        made = await trips.DuplicateTrip(pb.DuplicateTripRequest(trip_id=source.id), metadata=keyed)
        return made.trip.id

    async def create_item(keyed: tuple[tuple[str, str], ...]) -> str:
        made = await trips.CreateItineraryItem(
            pb.CreateItineraryItemRequest(
                trip_id=source.id,
                item=pb.ItineraryItem(kind=pb.ITINERARY_ITEM_KIND_ACTIVITY, title="Once"),
            ),
            metadata=keyed,
        )
        return made.item.id

    async def create_conversation(keyed: tuple[tuple[str, str], ...]) -> str:
        made = await assistant.CreateConversation(
            apb.CreateConversationRequest(conversation=apb.Conversation(title="One")),
            metadata=keyed,
        )
        return made.conversation.id

    await _one_row_under_racing_retries(create_trip, trip_count, ana)
    await _one_row_under_racing_retries(duplicate_trip, trip_count, ana)
    await _one_row_under_racing_retries(create_item, item_count, ana)
    await _one_row_under_racing_retries(create_conversation, conversation_count, ana)
