"""Upstreams that answer late or never, for the gateway's deadline tests.

Real grpc.aio servicers on the generated base classes: each sleeps for the
seconds it was built with before answering (``None``: it never answers).
ListTrips always answers at once, so a test can first get a channel ready.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import grpc

from tripsage.assistant.v1 import assistant_service_pb2 as assistant_pb
from tripsage.assistant.v1 import assistant_service_pb2_grpc as assistant_grpc
from tripsage.travel.v1 import travel_service_pb2 as travel_pb
from tripsage.travel.v1 import travel_service_pb2_grpc as travel_grpc
from tripsage.trips.v1 import trip_service_pb2 as trips_pb
from tripsage.trips.v1 import trip_service_pb2_grpc as trips_grpc

if TYPE_CHECKING:
    Context = grpc.aio.ServicerContext[object, object]


async def _wait(seconds: float | None) -> None:
    await asyncio.sleep(3600 if seconds is None else seconds)


class SlowTrips(trips_grpc.TripServiceServicer):
    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds

    async def GetTrip(
        self, request: trips_pb.GetTripRequest, context: Context
    ) -> trips_pb.GetTripResponse:
        await _wait(self.seconds)
        return trips_pb.GetTripResponse(trip=trips_pb.Trip(id=request.trip_id, title="late"))

    async def ListTrips(
        self, request: trips_pb.ListTripsRequest, context: Context
    ) -> trips_pb.ListTripsResponse:
        return trips_pb.ListTripsResponse()


class SlowTravel(travel_grpc.TravelServiceServicer):
    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds

    async def SearchFlights(
        self, request: travel_pb.SearchFlightsRequest, context: Context
    ) -> travel_pb.SearchFlightsResponse:
        await _wait(self.seconds)
        return travel_pb.SearchFlightsResponse()


class SlowAssistant(assistant_grpc.AssistantServiceServicer):
    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds

    async def StreamMessage(
        self, request: assistant_pb.StreamMessageRequest, context: Context
    ) -> AsyncIterator[assistant_pb.StreamMessageResponse]:
        await _wait(self.seconds)
        yield assistant_pb.StreamMessageResponse(sequence=1)


def register_slow(
    server: grpc.aio.Server, seconds: float | None, *, travel_seconds: float | None = None
) -> None:
    trips_grpc.add_TripServiceServicer_to_server(SlowTrips(seconds), server)
    travel_grpc.add_TravelServiceServicer_to_server(SlowTravel(travel_seconds), server)
    assistant_grpc.add_AssistantServiceServicer_to_server(SlowAssistant(seconds), server)
