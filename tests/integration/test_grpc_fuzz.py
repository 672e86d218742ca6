"""hypothesis-generated messages over every gRPC method of every service (issue 15): no
answer may be INTERNAL, UNKNOWN or DATA_LOSS, whatever the fields hold.

Messages are built from the descriptors (a new method or field is fuzzed without a change
here): strings from NUL, huge and ordinary text and the ids of real data (so calls reach
past "not found"), integers at their limits, NaN and infinities, enum numbers the contract
does not name, instants outside the calendar, nested messages, lists and maps. The caller
is a verified user who owns a trip with an item and a conversation. hypothesis runs in a
thread and sends each call to the suite's event loop, where the services run.

More examples for a longer hunt: `FUZZ_GRPC_EXAMPLES=200 uv run pytest -m fuzz -k grpc`.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any

import grpc
import pytest
import pytest_asyncio
from google.protobuf import descriptor as d
from google.protobuf import message_factory
from google.protobuf.message import Message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.accounts import Account, register, verified
from tests.support.suite import RunningSuite
from tests.support.trips import add_item, create_trip
from tripsage.assistant.v1 import assistant_service_pb2 as apb
from tripsage.assistant.v1 import assistant_service_pb2_grpc as apb_grpc
from tripsage.auth.v1 import auth_service_pb2
from tripsage.auth.v1 import auth_service_pb2_grpc as auth_grpc
from tripsage.travel.v1 import travel_service_pb2
from tripsage.trips.v1 import trip_service_pb2 as pb
from tripsage.trips.v1 import trip_service_pb2_grpc as pb_grpc

pytestmark = [pytest.mark.database, pytest.mark.fuzz]

EXAMPLES_PER_METHOD = int(os.environ.get("FUZZ_GRPC_EXAMPLES", "8"))
FORBIDDEN = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN, grpc.StatusCode.DATA_LOSS}
CALL_TIMEOUT = 10.0
STREAM_TIMEOUT = 3.0  # a watch stays open: reading its first events is enough
MAX_DEPTH = 3

SERVICES = {
    "auth": auth_service_pb2.DESCRIPTOR.services_by_name["AuthService"],
    "trips": pb.DESCRIPTOR.services_by_name["TripService"],
    "travel": travel_service_pb2.DESCRIPTOR.services_by_name["TravelService"],
    "assistant": apb.DESCRIPTOR.services_by_name["AssistantService"],
}
METHODS = [(name, method) for name, service in SERVICES.items() for method in service.methods]
# Calls that would end the test's own session or wipe its data for the next examples.
# (The test fails, naming the method, when a fuzzed call leaves the session unusable.)
SPARED = {"Logout", "ChangePassword"}

FD = d.FieldDescriptor
INT_LIMITS = {
    FD.TYPE_INT32: (-(2**31), 2**31 - 1),
    FD.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FD.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    FD.TYPE_INT64: (-(2**63), 2**63 - 1),
    FD.TYPE_SINT64: (-(2**63), 2**63 - 1),
    FD.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    FD.TYPE_UINT32: (0, 2**32 - 1),
    FD.TYPE_FIXED32: (0, 2**32 - 1),
    FD.TYPE_UINT64: (0, 2**64 - 1),
    FD.TYPE_FIXED64: (0, 2**64 - 1),
}
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)


def _mostly[T](usual: st.SearchStrategy[T], odd: st.SearchStrategy[T]) -> st.SearchStrategy[T]:
    """`odd` one time in five: a message has many fields, and one bad field is enough for
    INVALID_ARGUMENT, so calls would rarely get further than validation otherwise."""
    return st.integers(0, 4).flatmap(lambda n: odd if n == 0 else usual)


def _integers(low: int, high: int) -> st.SearchStrategy[int]:
    edges = [v for v in (-1, 2**31 - 1, 2**53, low, high) if low <= v <= high]
    usual = st.integers(max(low, 0), min(high, 200))
    return _mostly(usual, st.sampled_from(edges) | st.integers(low, high))


def _strings(ids: list[str]) -> st.SearchStrategy[str]:
    odd = ["\x00", "a\x00b", "x" * 20_000, "'; DROP TABLE trips; --", "🧳" * 300, " ", "\u202e"]
    return _mostly(st.sampled_from(ids) | TEXT, st.sampled_from(odd))


def _scalar(field: d.FieldDescriptor, ids: list[str]) -> st.SearchStrategy[Any]:
    if field.type == FD.TYPE_STRING:
        return _strings(ids)
    if field.type == FD.TYPE_BYTES:
        return st.binary(max_size=64)
    if field.type == FD.TYPE_BOOL:
        return st.booleans()
    if field.type in (FD.TYPE_FLOAT, FD.TYPE_DOUBLE):
        width = 32 if field.type == FD.TYPE_FLOAT else 64
        return _mostly(
            st.floats(0, 10_000, width=width),
            st.floats(width=width, allow_nan=True, allow_infinity=True),
        )
    if field.type == FD.TYPE_ENUM:
        known = [v.number for v in field.enum_type.values]
        return _mostly(st.sampled_from(known), st.integers(-3, 10_000))  # unknown numbers too
    low, high = INT_LIMITS[field.type]
    return _integers(low, high)


def _value(field: d.FieldDescriptor, ids: list[str], depth: int) -> st.SearchStrategy[Any]:
    if field.type == FD.TYPE_MESSAGE:
        return messages(field.message_type, ids, depth + 1)
    return _scalar(field, ids)


def _set(message: Message, field: d.FieldDescriptor, value: Any) -> None:
    target = getattr(message, field.name)
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        value_field = field.message_type.fields_by_name["value"]
        for key, item in value:
            if value_field.type == FD.TYPE_MESSAGE:
                target[key].CopyFrom(item)
            else:
                target[key] = item
    elif field.is_repeated:
        if field.type == FD.TYPE_MESSAGE:
            for item in value:
                target.add().CopyFrom(item)
        else:
            target.extend(value)
    elif field.type == FD.TYPE_MESSAGE:
        target.CopyFrom(value)
    else:
        setattr(message, field.name, value)


def messages(
    descriptor: d.Descriptor, ids: list[str], depth: int = 0
) -> st.SearchStrategy[Message]:
    cls = message_factory.GetMessageClass(descriptor)
    if depth > MAX_DEPTH:
        return st.just(cls())
    fields: dict[str, st.SearchStrategy[Any]] = {}
    for field in descriptor.fields:
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            key_field, value_field = field.message_type.fields_by_name.values()
            pair = st.tuples(_scalar(key_field, ids), _value(value_field, ids, depth))
            fields[field.name] = st.lists(pair, max_size=3)
        elif field.is_repeated:
            fields[field.name] = st.lists(_value(field, ids, depth), max_size=3)
        else:
            fields[field.name] = _value(field, ids, depth)

    def build(values: dict[str, Any]) -> Message:
        message = cls()
        for name, value in values.items():
            _set(message, descriptor.fields_by_name[name], value)
        return message

    return st.fixed_dictionaries({}, optional=fields).map(build)


async def _call(
    channel: grpc.aio.Channel, path: str, method: d.MethodDescriptor, request: Message, md: Any
) -> grpc.StatusCode:
    response_class = message_factory.GetMessageClass(method.output_type)
    try:
        if method.server_streaming:
            stream = channel.unary_stream(
                path,
                request_serializer=type(request).SerializeToString,
                response_deserializer=response_class.FromString,
            )(request, metadata=md, timeout=STREAM_TIMEOUT)
            async for _ in stream:
                pass
        else:
            await channel.unary_unary(
                path,
                request_serializer=type(request).SerializeToString,
                response_deserializer=response_class.FromString,
            )(request, metadata=md, timeout=CALL_TIMEOUT)
    except grpc.aio.AioRpcError as error:
        return error.code()
    return grpc.StatusCode.OK


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def fuzz_data(suite: RunningSuite) -> tuple[Account, list[str]]:
    """A verified user with a trip, an item and a conversation; the ids to aim at."""
    owner = await verified(suite, await register(suite.address("auth"), "grpc-fuzz"))
    async with grpc.aio.insecure_channel(suite.address("trips")) as channel:
        trips = pb_grpc.TripServiceStub(channel)
        trip = await create_trip(trips, owner, title="Fuzz")
        item = await add_item(trips, owner, trip.id)
    async with grpc.aio.insecure_channel(suite.address("assistant")) as channel:
        conversation = (
            await apb_grpc.AssistantServiceStub(channel).CreateConversation(
                apb.CreateConversationRequest(conversation=apb.Conversation(title="Fuzz")),
                metadata=owner.metadata,
            )
        ).conversation
    return owner, [owner.id, trip.id, item.id, conversation.id, "LIS", "2027-05-02"]


@pytest.mark.parametrize(("service", "method"), METHODS, ids=[m.full_name for _, m in METHODS])
async def test_no_method_answers_internal_or_unknown(
    suite: RunningSuite,
    fuzz_data: tuple[Account, list[str]],
    service: str,
    method: d.MethodDescriptor,
) -> None:
    if method.name in SPARED:
        pytest.skip(f"{method.name} would end the fuzzing user's session")
    owner, ids = fuzz_data
    loop = asyncio.get_running_loop()
    path = f"/{method.containing_service.full_name}/{method.name}"
    failures: list[str] = []
    async with grpc.aio.insecure_channel(suite.address(service)) as channel:

        @settings(
            max_examples=EXAMPLES_PER_METHOD,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(messages(method.input_type, ids))
        def check(request: Message) -> None:
            code = asyncio.run_coroutine_threadsafe(
                _call(channel, path, method, request, owner.metadata), loop
            ).result(timeout=60)
            if code in FORBIDDEN:
                failures.append(f"{code.name} for {request!r:.600}")

        run: Callable[[], None] = check
        await asyncio.to_thread(run)
    assert failures == [], "\n".join(failures[:5])
    async with grpc.aio.insecure_channel(suite.address("auth")) as channel:
        still = await auth_grpc.AuthServiceStub(channel).GetCurrentUser(
            auth_service_pb2.GetCurrentUserRequest(), metadata=owner.metadata
        )
    assert still.user.id == owner.id, f"{method.name} ended the session: add it to SPARED"
