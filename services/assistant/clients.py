"""The travel service's RPCs as the assistant's tools (a transport adapter, like app.py).

Each tool's parameters are its request message's JSON Schema (tripsage_core.proto_schema,
with the contract's comments); the model's arguments are parsed into that message, the
call is made as the end user (the service credential carries them), and the answer
comes back as its JSON mapping with a one-line summary.
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
from tripsage_core.config import Settings
from tripsage_core.errors import Unavailable
from tripsage_core.grpc_kit.client import shared_service_channel
from tripsage_core.identity import Principal
from tripsage_core.proto_docs import comment
from tripsage_core.proto_schema import message_schema

TRAVEL_SERVICE = "tripsage.travel.v1.TravelService"


@dataclass(frozen=True)
class _Rpc:
    tool: str
    method: str
    request: type[Message]
    summary: Callable[[dict[str, Any]], str]


def _count(field: str, what: str) -> Callable[[dict[str, Any]], str]:
    return lambda answer: f"{len(answer.get(field) or [])} {what}"


TRAVEL_TOOLS = (
    _Rpc("search_flights", "SearchFlights", travel_pb.SearchFlightsRequest,
         _count("offers", "flights")),
    _Rpc("search_stays", "SearchAccommodations", travel_pb.SearchAccommodationsRequest,
         _count("accommodations", "stays")),
    _Rpc("search_places", "SearchPlaces", travel_pb.SearchPlacesRequest,
         _count("places", "places")),
    _Rpc("get_weather", "GetWeather", travel_pb.GetWeatherRequest,
         lambda a: f"{len(a.get('daily') or [])} days of weather for {a.get('place', '')}"),
    _Rpc("geocode", "Geocode", travel_pb.GeocodeRequest, _count("results", "matches")),
    _Rpc("get_travel_time", "GetTravelTime", travel_pb.GetTravelTimeRequest,
         lambda a: "travel time found"),
    _Rpc("list_airports", "ListAirports", travel_pb.ListAirportsRequest,
         _count("airports", "airports")),
)  # fmt: skip


class TravelTool:
    def __init__(self, settings: Settings, rpc: _Rpc) -> None:
        self.settings = settings
        self.rpc = rpc
        description = comment(f"{TRAVEL_SERVICE}.{rpc.method}") or rpc.method
        self.spec = ToolSpec(rpc.tool, description, message_schema(rpc.request.DESCRIPTOR))  # type: ignore[arg-type]

    async def run(self, caller: Principal, arguments: dict[str, Any]) -> ToolOutcome:
        try:
            request = json_format.ParseDict(arguments, self.rpc.request())
        except (json_format.ParseError, TypeError, ValueError) as problem:
            raise ToolArgumentsInvalid(str(problem)) from None
        channel = shared_service_channel(self.settings.service_addr("travel"), self.settings)
        stub = travel_grpc.TravelServiceStub(channel)
        try:
            answer = await getattr(stub, self.rpc.method)(request, timeout=15)
        except grpc.aio.AioRpcError as error:
            if error.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                raise Unavailable("the travel service is not answering right now") from None
            return ToolOutcome(error=f"{error.code().name}: {error.details()}")
        data = json_format.MessageToDict(answer)
        return ToolOutcome(data, self.rpc.summary(data))


def travel_tools(settings: Settings) -> list[TravelTool]:
    return [TravelTool(settings, rpc) for rpc in TRAVEL_TOOLS]
