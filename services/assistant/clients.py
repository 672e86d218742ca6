"""The travel and trips services' RPCs as the assistant's tools (a transport adapter, like
app.py).

Each tool's parameters are its request message's JSON Schema (tripsage_core.proto_schema,
with the contract's comments); the model's arguments are parsed into that message, the
call is made as the end user (the service credential carries them, so the trips service
applies that user's rights), and the answer comes back as its JSON mapping with a
one-line summary. Tools that change a trip say so (`changes`): they run only after the
user approves (turns.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf import json_format
from google.protobuf.message import Message

from services.assistant.chat import ToolSpec
from services.assistant.tools import ToolArgumentsInvalid, ToolOutcome
from tripsage.travel.v1 import travel_service_pb2 as travel_pb
from tripsage.travel.v1 import travel_service_pb2_grpc as travel_grpc
from tripsage.trips.v1 import trip_service_pb2 as trips_pb
from tripsage.trips.v1 import trip_service_pb2_grpc as trips_grpc
from tripsage_core.config import Settings
from tripsage_core.errors import Unavailable
from tripsage_core.grpc_kit.client import shared_service_channel
from tripsage_core.identity import Principal
from tripsage_core.proto_docs import comment
from tripsage_core.proto_schema import message_schema

type Summary = Callable[[dict[str, Any]], str]


@dataclass(frozen=True)
class _Rpc:
    tool: str
    method: str
    request: type[Message]
    summary: Summary
    # A change: described to the user from the arguments, run only once approved.
    describe: Callable[[dict[str, Any]], str] | None = None


@dataclass(frozen=True)
class _Service:
    name: str  # the registry's name, for its address
    full_name: str
    stub: Callable[[grpc.aio.Channel], Any]
    rpcs: tuple[_Rpc, ...]


def _count(field: str, what: str) -> Summary:
    return lambda answer: f"{len(answer.get(field) or [])} {what}"


def _named(key: str, what: str) -> Summary:
    return lambda answer: f"{what} {(answer.get(key) or {}).get('title', '')!r}".strip()


def _proposal(verb: str, key: str, what: str) -> Callable[[dict[str, Any]], str]:
    """'create the trip "Lisbon in May"', from the arguments the model gave."""

    def describe(arguments: dict[str, Any]) -> str:
        given = arguments.get(key)
        title = given.get("title") if isinstance(given, dict) else None
        return f"{verb} {what} {str(title)[:120]!r}" if title else f"{verb} {what}"

    return describe


TRAVEL = _Service("travel", "tripsage.travel.v1.TravelService", travel_grpc.TravelServiceStub, (
    _Rpc("search_flights", "SearchFlights", travel_pb.SearchFlightsRequest,
         _count("offers", "flights")),
    _Rpc("search_stays", "SearchAccommodations", travel_pb.SearchAccommodationsRequest,
         _count("accommodations", "stays")),
    _Rpc("get_stay", "GetAccommodation", travel_pb.GetAccommodationRequest,
         lambda a: f"{len((a.get('accommodation') or {}).get('rates') or [])} rates"),
    _Rpc("get_place", "GetPlace", travel_pb.GetPlaceRequest,
         lambda a: str((a.get("place") or {}).get("name", "the place"))),
    _Rpc("search_places", "SearchPlaces", travel_pb.SearchPlacesRequest,
         _count("places", "places")),
    _Rpc("get_weather", "GetWeather", travel_pb.GetWeatherRequest,
         lambda a: f"{len(a.get('daily') or [])} days of weather for {a.get('place', '')}"),
    _Rpc("geocode", "Geocode", travel_pb.GeocodeRequest, _count("results", "matches")),
    _Rpc("get_travel_time", "GetTravelTime", travel_pb.GetTravelTimeRequest,
         lambda a: "travel time found"),
    _Rpc("list_airports", "ListAirports", travel_pb.ListAirportsRequest,
         _count("airports", "airports")),
))  # fmt: skip

TRIPS = _Service("trips", "tripsage.trips.v1.TripService", trips_grpc.TripServiceStub, (
    _Rpc("list_trips", "ListTrips", trips_pb.ListTripsRequest, _count("trips", "trips")),
    _Rpc("get_trip", "GetTrip", trips_pb.GetTripRequest, _named("trip", "trip")),
    _Rpc("list_items", "ListItineraryItems", trips_pb.ListItineraryItemsRequest,
         _count("items", "itinerary items")),
    _Rpc("create_trip", "CreateTrip", trips_pb.CreateTripRequest, _named("trip", "created trip"),
         _proposal("create", "trip", "the trip")),
    _Rpc("update_trip", "UpdateTrip", trips_pb.UpdateTripRequest, _named("trip", "updated trip"),
         _proposal("change", "trip", "the trip")),
    _Rpc("add_item", "CreateItineraryItem", trips_pb.CreateItineraryItemRequest,
         _named("item", "added"), _proposal("add", "item", "the itinerary item")),
    _Rpc("update_item", "UpdateItineraryItem", trips_pb.UpdateItineraryItemRequest,
         _named("item", "changed"), _proposal("change or move", "item", "the itinerary item")),
    _Rpc("remove_item", "DeleteItineraryItem", trips_pb.DeleteItineraryItemRequest,
         lambda a: "item removed", lambda a: "remove an itinerary item"),
))  # fmt: skip


class RpcTool:
    def __init__(self, settings: Settings, service: _Service, rpc: _Rpc) -> None:
        self.settings = settings
        self.service = service
        self.rpc = rpc
        description = comment(f"{service.full_name}.{rpc.method}") or rpc.method
        schema = message_schema(rpc.request.DESCRIPTOR)  # type: ignore[arg-type]
        self.spec = ToolSpec(rpc.tool, description, schema, proposal=rpc.describe)

    async def run(self, caller: Principal, arguments: dict[str, Any]) -> ToolOutcome:
        try:
            request = json_format.ParseDict(arguments, self.rpc.request())
        except (json_format.ParseError, TypeError, ValueError) as problem:
            raise ToolArgumentsInvalid(str(problem)) from None
        channel = shared_service_channel(
            self.settings.service_addr(self.service.name), self.settings
        )
        try:
            answer = await getattr(self.service.stub(channel), self.rpc.method)(request, timeout=15)
        except grpc.aio.AioRpcError as error:
            if error.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                raise Unavailable(f"the {self.service.name} service is not answering now") from None
            return ToolOutcome(error=f"{error.code().name}: {error.details()}")
        data = json_format.MessageToDict(answer)
        return ToolOutcome(data, self.rpc.summary(data))


def service_tools(settings: Settings) -> list[RpcTool]:
    return [RpcTool(settings, service, rpc) for service in (TRAVEL, TRIPS) for rpc in service.rpcs]
