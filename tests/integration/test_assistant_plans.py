"""PlanTrip with the offline planner over the sandbox providers: itineraries from search
results that an independent checker (tests/support/plan_checker.py) passes, refusals
that name the failing constraint, and saving a plan as a trip. Over gRPC and the gateway;
a property test runs many generated requests."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import grpc
import httpx
import pytest
from google.type import money_pb2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.accounts import Account, register
from tests.support.assistant import talk
from tests.support.errors import error_info
from tests.support.plan_checker import check, places_of
from tests.support.suite import RunningSuite
from tests.support.trips import Cast
from tripsage.assistant.v1 import assistant_service_pb2 as pb
from tripsage.travel.v1 import travel_service_pb2_grpc as travel_grpc
from tripsage.trips.v1 import trip_service_pb2 as trips_pb
from tripsage.trips.v1 import trip_service_pb2_grpc as trips_grpc

if TYPE_CHECKING:
    from tripsage.assistant.v1.assistant_service_pb2_grpc import AssistantServiceAsyncStub as Stub
    from tripsage.travel.v1.travel_service_pb2_grpc import (
        TravelServiceAsyncStub as TravelStub,
    )

pytestmark = pytest.mark.database

TODAY = datetime.now(UTC).date()
REFUSALS = {"budget", "transport", "dietary", "accessibility", "stay", "rooms"}
CITIES = ("Lisbon", "Paris", "Rome", "Barcelona", "Berlin", "Amsterdam", "Madrid", "Prague")
ORIGINS = ("London", "New York", "Frankfurt", "Dublin")


@pytest.fixture
async def travel(suite: RunningSuite) -> AsyncIterator[TravelStub]:
    async with grpc.aio.insecure_channel(suite.address("travel")) as channel:
        yield travel_grpc.TravelServiceStub(channel)


@pytest.fixture
async def ana(suite: RunningSuite) -> Account:
    return await register(suite.address("auth"), "ana")


def _eur(amount: int) -> money_pb2.Money:
    return money_pb2.Money(currency_code="EUR", units=amount)


async def plan(assistant: Stub, who: Account, request: pb.PlanTripRequest) -> pb.PlanTripResponse:
    return await assistant.PlanTrip(request, metadata=who.metadata)


async def test_the_issue_example_from_a_prompt(
    assistant: Stub, travel: TravelStub, ana: Account
) -> None:
    reply = await plan(
        assistant,
        ana,
        pb.PlanTripRequest(
            prompt="Plan 4 days in Lisbon from London in May for two, about 2000 euros,"
            " we love food and museums"
        ),
    )
    trip = reply.plan
    assert trip.destination == "Lisbon"
    assert len(trip.days) == 4
    assert trip.start_date.endswith("-05-10")
    assert (trip.adults, trip.children) == (2, 0)
    assert trip.estimated_cost.currency_code == "EUR"
    assert trip.budget.units == 2000
    kinds = [i.kind for d in trip.days for i in d.items]
    assert kinds.count(pb.PLAN_ITEM_KIND_TRANSPORT) == 2  # there and back
    assert kinds.count(pb.PLAN_ITEM_KIND_ACCOMMODATION) == 1
    assert pb.PLAN_ITEM_KIND_MEAL in kinds
    assert pb.PLAN_ITEM_KIND_ACTIVITY in kinds
    assert trip.sandbox_data
    structured = pb.PlanTripRequest(
        destination="Lisbon", origin="London", start_date=trip.start_date,
        end_date=trip.end_date, adults=2, budget=_eur(2000),
    )  # fmt: skip
    assert check(trip, structured, await places_of(travel, trip, ana.metadata, structured)) == set()


async def test_a_budget_too_small_says_by_how_much(assistant: Stub, ana: Account) -> None:
    start = TODAY + timedelta(days=40)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await plan(
            assistant,
            ana,
            pb.PlanTripRequest(
                destination="Paris", origin="London", start_date=start.isoformat(),
                end_date=(start + timedelta(days=4)).isoformat(), adults=2, budget=_eur(50),
            ),
        )  # fmt: skip
    assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    details = raised.value.details() or ""
    assert "over the budget of 50.00 EUR" in details


async def test_unknown_places_and_bad_fields(assistant: Stub, ana: Account) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await plan(assistant, ana, pb.PlanTripRequest(destination="Zzyzxqville"))
    assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "Zzyzxqville" in (raised.value.details() or "")
    for bad, field in (
        (pb.PlanTripRequest(), "destination"),
        (pb.PlanTripRequest(destination="Rome", start_date="2027-02-30"), "start_date"),
        (pb.PlanTripRequest(destination="Rome", start_date="2020-01-01"), "start_date"),
        (pb.PlanTripRequest(destination="Rome", start_date="2027-03-01",
                            end_date="2027-05-01"), "end_date"),
        (pb.PlanTripRequest(destination="Rome", adults=40), "adults"),
        (pb.PlanTripRequest(destination="Rome", pace="frantic"), "pace"),
        (pb.PlanTripRequest(destination="Rome", child_ages=[30]), "child_ages"),
        (pb.PlanTripRequest(destination="Rome",
                            budget=money_pb2.Money(currency_code="XYZ", units=5)),
         "budget.currency_code"),
        (pb.PlanTripRequest(destination="Rome", prompt="x" * 2001), "prompt"),
        (pb.PlanTripRequest(destination="Rome", interests=["food", "x" * 41]), "interests[1]"),
        (pb.PlanTripRequest(destination="Rome", dietary=["v" * 41]), "dietary[0]"),
        (pb.PlanTripRequest(destination="Rome", accessibility=["a"] * 11), "accessibility"),
        (pb.PlanTripRequest(destination="Rome", child_ages=[4], rooms=2), "rooms"),
        (pb.PlanTripRequest(destination="Rome", start_date=(TODAY + timedelta(days=400))
                            .isoformat()), "start_date"),
        (pb.PlanTripRequest(destination="Rome", start_date=(TODAY + timedelta(days=362))
                            .isoformat(), end_date=(TODAY + timedelta(days=368)).isoformat()),
         "end_date"),
    ):  # fmt: skip
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await plan(assistant, ana, bad)
        assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT, field
        assert field in (raised.value.details() or ""), field


async def test_no_flights_and_a_family(assistant: Stub, travel: TravelStub, ana: Account) -> None:
    start = TODAY + timedelta(days=60)
    request = pb.PlanTripRequest(
        destination="Barcelona", origin="Madrid", no_flights=True, adults=2, child_ages=[6, 9],
        rooms=2, start_date=start.isoformat(), end_date=(start + timedelta(days=2)).isoformat(),
        pace="relaxed", dietary=["vegetarian"],
    )  # fmt: skip
    trip = (await plan(assistant, ana, request)).plan
    assert check(trip, request, await places_of(travel, trip, ana.metadata, request)) == set()
    assert not any(i.mode == "flight" for d in trip.days for i in d.items)
    assert any("No flights" in note for note in trip.notes)
    stay = next(i for d in trip.days for i in d.items if i.kind == pb.PLAN_ITEM_KIND_ACCOMMODATION)
    assert stay.rooms == 2
    assert trip.children == 2


async def test_a_saved_plan_is_a_trip_with_its_items(
    assistant: Stub, trips: trips_grpc.TripServiceAsyncStub, ana: Account
) -> None:
    start = TODAY + timedelta(days=30)
    reply = await plan(
        assistant,
        ana,
        pb.PlanTripRequest(
            destination="Rome", start_date=start.isoformat(),
            end_date=(start + timedelta(days=2)).isoformat(), save=True,
        ),
    )  # fmt: skip
    assert reply.trip_id
    got = await trips.GetTrip(trips_pb.GetTripRequest(trip_id=reply.trip_id), metadata=ana.metadata)
    assert got.trip.title == reply.plan.title
    items = await trips.ListItineraryItems(
        trips_pb.ListItineraryItemsRequest(trip_id=reply.trip_id), metadata=ana.metadata
    )
    planned = [i for d in reply.plan.days for i in d.items]
    assert sorted(i.title for i in items.items) == sorted(i.title for i in planned)


async def test_plan_through_the_gateway(http: httpx.AsyncClient, ana: Account) -> None:
    answer = await http.post(
        "/api/v1/trips:plan", json={"prompt": "3 relaxed days in Prague"}, headers=ana.headers
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()["plan"]
    assert body["destination"] == "Prague"
    assert len(body["days"]) == 3
    assert body["days"][0]["items"][0]["basedOnId"]
    refused = await http.post("/api/v1/trips:plan", json={"destination": ""}, headers=ana.headers)
    assert refused.status_code == 400


@st.composite
def requests(draw: st.DrawFn) -> pb.PlanTripRequest:
    start = TODAY + timedelta(days=draw(st.integers(10, 300)))
    days = draw(st.integers(1, 7))
    adults = draw(st.integers(1, 4))
    children = draw(st.integers(0, 2))
    request = pb.PlanTripRequest(
        destination=draw(st.sampled_from(CITIES)),
        start_date=start.isoformat(),
        end_date=(start + timedelta(days=days - 1)).isoformat(),
        adults=adults,
        child_ages=draw(st.lists(st.integers(0, 17), min_size=children, max_size=children)),
        interests=draw(st.lists(st.sampled_from(["museums", "food", "history", "parks"]),
                                max_size=3, unique=True)),
        pace=draw(st.sampled_from(["", "relaxed", "moderate", "packed"])),
        no_flights=draw(st.booleans()),
        dietary=draw(st.lists(st.sampled_from(["vegetarian", "vegan", "gluten-free"]),
                              max_size=2, unique=True)),
        accessibility=draw(st.lists(st.just("wheelchair"), max_size=1)),
        room_type=draw(st.sampled_from(["", "", "double", "family"])),
        stay_amenities=draw(st.lists(st.sampled_from(["wifi", "breakfast"]), max_size=1)),
    )  # fmt: skip
    if draw(st.booleans()):
        request.origin = draw(st.sampled_from(ORIGINS))
    if draw(st.booleans()):
        request.budget.CopyFrom(_eur(draw(st.integers(100, 8000))))
    return request


@pytest.mark.asyncio(loop_scope="session")
@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(request=requests())
async def test_every_plan_passes_the_checker_and_every_refusal_names_its_constraint(
    assistant: Stub, travel: TravelStub, ana: Account, request: pb.PlanTripRequest
) -> None:
    try:
        trip = (await plan(assistant, ana, request)).plan
    except grpc.aio.AioRpcError as refused:
        failure = refused
    else:
        lines = [f"{d.date} {i.kind} {i.start_local_time}..{i.end_local_time} {i.title}"
                 for d in trip.days for i in d.items]  # fmt: skip
        places = await places_of(travel, trip, ana.metadata, request)
        assert check(trip, request, places) == set(), "\n".join(lines)
        return
    # A refusal names the constraint that fails: the budget (with the shortfall), the
    # transport, a diet or access no place meets.
    assert failure.code() == grpc.StatusCode.FAILED_PRECONDITION, failure.details()
    assert error_info(failure).metadata["constraint"] in REFUSALS, failure.details()


ISSUE_EXAMPLE = (
    "Plan 4 days in Lisbon from London in May for two, about 2000 euros, we love food and museums"
)


async def test_the_offline_assistant_plans_in_a_conversation_and_saves_once_approved(
    assistant: Stub, trips: trips_grpc.TripServiceAsyncStub, ana: Account
) -> None:
    conversation = await talk(assistant, ana)
    planned = await assistant.SendMessage(
        pb.SendMessageRequest(conversation_id=conversation, content=ISSUE_EXAMPLE),
        metadata=ana.metadata,
    )
    (call,) = [c for m in planned.turn_messages for c in m.tool_calls]
    (result,) = [m.tool_result for m in planned.turn_messages if m.role == pb.MESSAGE_ROLE_TOOL]
    assert call.name == "plan_trip"
    assert not result.error, result
    assert result.result["plan"]["destination"] == "Lisbon"
    answer = planned.message.content
    assert "Lisbon" in answer
    assert answer.count("\n2027-05-1") == 4, answer
    assert "save it" in answer
    listed = await trips.ListTrips(trips_pb.ListTripsRequest(), metadata=ana.metadata)
    assert not listed.trips  # planning changes nothing

    saving = await assistant.SendMessage(
        pb.SendMessageRequest(conversation_id=conversation, content="Great, save it"),
        metadata=ana.metadata,
    )
    assert saving.message.status == pb.MESSAGE_STATUS_AWAITING_APPROVAL
    (save_call,) = saving.message.tool_calls
    assert save_call.name == "plan_trip"
    assert save_call.arguments["save"] is True
    assert "save the plan" in saving.turn_messages[-1].content
    assert not (await trips.ListTrips(trips_pb.ListTripsRequest(), metadata=ana.metadata)).trips

    approved = await assistant.ApproveToolCall(
        pb.ApproveToolCallRequest(conversation_id=conversation, tool_call_id=save_call.id),
        metadata=ana.metadata,
    )
    trip_id = approved.turn_messages[0].tool_result.result["tripId"]
    assert trip_id in approved.message.content
    items = await trips.ListItineraryItems(
        trips_pb.ListItineraryItemsRequest(trip_id=trip_id, page_size=100), metadata=ana.metadata
    )
    assert len(items.items) > 8  # flights, the stay, meals and activities of four days


async def test_a_plan_the_assistant_cannot_make_is_said_plainly(
    assistant: Stub, ana: Account
) -> None:
    conversation = await talk(assistant, ana)
    refused = await assistant.SendMessage(
        pb.SendMessageRequest(
            conversation_id=conversation,
            content="Plan 5 days in Paris from New York in June for four, about 100 euros",
        ),
        metadata=ana.metadata,
    )
    (call,) = [c for m in refused.turn_messages for c in m.tool_calls]
    (result,) = [m.tool_result for m in refused.turn_messages if m.role == pb.MESSAGE_ROLE_TOOL]
    assert call.name == "plan_trip"
    assert "budget" in result.error, result
    assert "budget" in refused.message.content, refused.message.content


async def test_a_trip_from_home_plans_no_transport(
    assistant: Stub, travel: TravelStub, ana: Account
) -> None:
    request = pb.PlanTripRequest(prompt="Plan 3 days in Dublin from Dublin for two")
    trip = (await plan(assistant, ana, request)).plan
    assert not any(i.kind == pb.PLAN_ITEM_KIND_TRANSPORT for d in trip.days for i in d.items)
    assert any("no transport" in note for note in trip.notes)
    meant = pb.PlanTripRequest(destination="Dublin", origin="Dublin", adults=2)
    assert check(trip, meant, await places_of(travel, trip, ana.metadata, meant)) == set()


async def test_diets_and_step_free_access_are_met_or_refused(
    assistant: Stub, travel: TravelStub, ana: Account
) -> None:
    start = TODAY + timedelta(days=30)
    request = pb.PlanTripRequest(
        destination="Rome", start_date=start.isoformat(),
        end_date=(start + timedelta(days=2)).isoformat(), dietary=["vegan", "gluten-free"],
        accessibility=["wheelchair"], interests=["museums"], pace="packed",
    )  # fmt: skip
    trip = (await plan(assistant, ana, request)).plan
    places = await places_of(travel, trip, ana.metadata, request)
    assert check(trip, request, places) == set()
    meals = [i for d in trip.days for i in d.items if i.kind == pb.PLAN_ITEM_KIND_MEAL]
    assert meals
    assert all({"vegan", "gluten-free"} <= set(places.places[m.based_on_id].dietary_options)  # type: ignore[union-attr]
               for m in meals)  # fmt: skip
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await plan(assistant, ana, pb.PlanTripRequest(destination="Rome", dietary=["halal"]))
    assert error_info(refused.value).metadata["constraint"] == "dietary"
    assert "halal" in (refused.value.details() or "")


async def test_planning_into_an_existing_trip(
    assistant: Stub,
    trips: trips_grpc.TripServiceAsyncStub,
    travel: TravelStub,
    suite: RunningSuite,
) -> None:
    cast = await Cast.register(suite)
    start = TODAY + timedelta(days=45)
    trip = await cast.shared_trip(
        trips, title="Rome with friends", start_date=start.isoformat(),
        end_date=(start + timedelta(days=2)).isoformat(),
        destinations=[trips_pb.Destination(name="Rome")],
        travelers=trips_pb.Travelers(adults=3),
    )  # fmt: skip
    # The trip fills in what the request leaves out; the request's own fields win.
    planned = await plan(assistant, cast.view, pb.PlanTripRequest(trip_id=trip.id))
    assert (planned.plan.destination, planned.plan.adults) == ("Rome", 3)
    assert (planned.plan.start_date, planned.plan.end_date) == (trip.start_date, trip.end_date)
    assert not planned.trip_id
    meant = pb.PlanTripRequest(destination="Rome", start_date=trip.start_date,
                               end_date=trip.end_date, adults=3)  # fmt: skip
    assert (
        check(planned.plan, meant, await places_of(travel, planned.plan, cast.view.metadata))
        == set()
    )
    two = await plan(assistant, cast.view, pb.PlanTripRequest(trip_id=trip.id, adults=2))
    assert two.plan.adults == 2

    # Saving adds the plan's items to that trip: an editor may, a viewer may not.
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await plan(assistant, cast.view, pb.PlanTripRequest(trip_id=trip.id, save=True))
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    saved = await plan(assistant, cast.edit, pb.PlanTripRequest(trip_id=trip.id, save=True))
    assert saved.trip_id == trip.id
    items = await trips.ListItineraryItems(
        trips_pb.ListItineraryItemsRequest(trip_id=trip.id, page_size=100),
        metadata=cast.owner.metadata,
    )
    planned_items = sum(len(d.items) for d in saved.plan.days)
    assert len(items.items) == planned_items
    listed = await trips.ListTrips(trips_pb.ListTripsRequest(), metadata=cast.edit.metadata)
    assert [t.id for t in listed.trips] == [trip.id]  # no new trip

    # Nobody else learns the trip exists.
    for who, bad in ((cast.stranger, trip.id), (cast.owner, "not-a-uuid")):
        with pytest.raises(grpc.aio.AioRpcError) as hidden:
            await plan(assistant, who, pb.PlanTripRequest(trip_id=bad))
        assert hidden.value.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT)
    assert hidden.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_rooms_of_the_kind_asked_that_sleep_the_party(
    assistant: Stub, travel: TravelStub, ana: Account
) -> None:
    start = TODAY + timedelta(days=50)
    request = pb.PlanTripRequest(
        destination="Paris", start_date=start.isoformat(),
        end_date=(start + timedelta(days=2)).isoformat(), adults=2, child_ages=[5, 8], rooms=1,
        room_type="family", stay_amenities=["wifi"],
    )  # fmt: skip
    trip = (await plan(assistant, ana, request)).plan
    assert check(trip, request, await places_of(travel, trip, ana.metadata, request)) == set()
    (stay,) = [i for d in trip.days for i in d.items if i.kind == pb.PLAN_ITEM_KIND_ACCOMMODATION]
    assert "Family" in stay.room_type
    assert stay.rate_id.startswith(stay.based_on_id)
    # Three adults in one room: only a room that sleeps three will do.
    three = pb.PlanTripRequest(destination="Paris", start_date=request.start_date,
                               end_date=request.end_date, adults=3, rooms=1)  # fmt: skip
    trip = (await plan(assistant, ana, three)).plan
    assert check(trip, three, await places_of(travel, trip, ana.metadata, three)) == set()
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await plan(assistant, ana, pb.PlanTripRequest(destination="Paris", room_type="igloo"))
    assert error_info(refused.value).metadata["constraint"] == "rooms"


async def test_a_plan_streamed_through_the_gateway(http: httpx.AsyncClient, ana: Account) -> None:
    made = await http.post("/api/v1/conversations", json={}, headers=ana.headers)
    conversation = made.json()["conversation"]["id"]
    events = []
    async with http.stream(
        "POST",
        f"/api/v1/conversations/{conversation}/messages:stream",
        json={"content": "Plan 3 relaxed days in Prague for two, we love history"},
        headers=ana.headers,
    ) as response:
        assert response.status_code == 200
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line.removeprefix("data: ")))
    assert [e["toolCall"]["name"] for e in events if "toolCall" in e] == ["plan_trip"]
    (finished,) = [e["toolResult"] for e in events if "toolResult" in e]
    assert not finished.get("error"), finished
    assert finished["result"]["plan"]["destination"] == "Prague"
    assert len(finished["result"]["plan"]["days"]) == 3
    answer = events[-1]["message"]["content"]
    assert answer.count("\n2") == 3, answer  # a line per day, each starting with its date
