"""TravelService over gRPC: authenticate, hand the request to the use case, return its reply."""

from __future__ import annotations

from typing import Any

from grpc import aio

from services.travel.travel import Travel
from tripsage.travel.v1 import travel_service_pb2 as pb
from tripsage.travel.v1 import travel_service_pb2_grpc as pb_grpc
from tripsage_core.grpc_kit.access import current_caller

Context = aio.ServicerContext[Any, Any]


class TravelServicer(pb_grpc.TravelServiceServicer):
    # Every RPC needs a signed-in caller (rpc_policy.py): results fetched with a user's
    # own key are cached per user, and anonymous callers would spend the server's quota.
    def __init__(self, travel: Travel) -> None:
        self.travel = travel

    async def SearchFlights(
        self, request: pb.SearchFlightsRequest, context: Context
    ) -> pb.SearchFlightsResponse:
        return await self.travel.search_flights(current_caller(), request)

    async def GetFlightOffer(
        self, request: pb.GetFlightOfferRequest, context: Context
    ) -> pb.GetFlightOfferResponse:
        return await self.travel.get_flight_offer(current_caller(), request.offer_id)

    async def SearchAccommodations(
        self, request: pb.SearchAccommodationsRequest, context: Context
    ) -> pb.SearchAccommodationsResponse:
        return await self.travel.search_stays(current_caller(), request)

    async def GetAccommodation(
        self, request: pb.GetAccommodationRequest, context: Context
    ) -> pb.GetAccommodationResponse:
        return await self.travel.get_stay(current_caller(), request)

    async def ListAirports(
        self, request: pb.ListAirportsRequest, context: Context
    ) -> pb.ListAirportsResponse:
        return self.travel.list_airports(request)

    async def SearchPlaces(
        self, request: pb.SearchPlacesRequest, context: Context
    ) -> pb.SearchPlacesResponse:
        return await self.travel.search_places(current_caller(), request)

    async def GetPlace(self, request: pb.GetPlaceRequest, context: Context) -> pb.GetPlaceResponse:
        return await self.travel.get_place(current_caller(), request)

    async def Geocode(self, request: pb.GeocodeRequest, context: Context) -> pb.GeocodeResponse:
        return await self.travel.geocode(current_caller(), request)

    async def ReverseGeocode(
        self, request: pb.ReverseGeocodeRequest, context: Context
    ) -> pb.ReverseGeocodeResponse:
        return await self.travel.reverse_geocode(current_caller(), request)

    async def GetWeather(
        self, request: pb.GetWeatherRequest, context: Context
    ) -> pb.GetWeatherResponse:
        return await self.travel.weather(current_caller(), request)

    async def GetTravelTime(
        self, request: pb.GetTravelTimeRequest, context: Context
    ) -> pb.GetTravelTimeResponse:
        return await self.travel.travel_time(current_caller(), request)
