"""The travel use cases: choose the key and provider, go through the cache, mark the source.

No transport here: the servicer hands in the request and a Principal; each use case
checks its request with `validation` first.
Provider failures become domain errors in one place (`_domain_error`), so a
provider's trouble is UNAVAILABLE (or stale data), never a 500.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from services.travel import filters, validation
from services.travel.airports import airport_message, search_airports
from services.travel.cache import SearchCache, cache_key
from services.travel.ports import (
    FlightProvider,
    GeoPoint,
    MapsProvider,
    Named,
    StayProvider,
    WeatherProvider,
    WeatherQuery,
)
from services.travel.providers.http import (
    ProviderAuthFailed,
    ProviderError,
    ProviderNotFound,
    ProviderRejected,
    ProviderUnavailable,
)
from services.travel.reference import distance_km, find_city, nearest_city
from services.travel.sandbox.flights import OFFER_PREFIX
from services.travel.sandbox.maps import PLACE_PREFIX
from services.travel.sandbox.seeded import NAME as SANDBOX
from services.travel.sandbox.stays import STAY_PREFIX
from tripsage.travel.v1 import travel_service_pb2 as pb
from tripsage_core import page_tokens
from tripsage_core.errors import (
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    Unavailable,
)
from tripsage_core.identity import Principal
from tripsage_core.provider_accounts import (
    DUFFEL,
    GOOGLE_MAPS,
    OPENWEATHERMAP,
    KeyChooser,
    ProviderAccount,
)

R = TypeVar("R", bound=Message)
P = TypeVar("P", bound=Named)
NEAREST_CITY_NAMING_KM = 50.0


@dataclass(frozen=True)
class Providers:
    flights: FlightProvider
    stays: StayProvider
    maps: MapsProvider
    weather: WeatherProvider


class Travel:
    def __init__(
        self,
        keys: KeyChooser,
        cache: SearchCache,
        live: Providers,
        sandbox: Providers,
    ) -> None:
        self.keys = keys
        self.cache = cache
        self.live = live
        self.sandbox = sandbox

    # -- flights --------------------------------------------------------------------

    async def search_flights(
        self, caller: Principal, request: pb.SearchFlightsRequest
    ) -> pb.SearchFlightsResponse:
        query = validation.flights(request)

        async def call(provider: FlightProvider, key: str | None) -> pb.SearchFlightsResponse:
            offers = await provider.search_flights(query, key)
            return pb.SearchFlightsResponse(offers=filters.flight_offers(offers, query))

        return await self._answer(
            caller, DUFFEL, "flights", query, pb.SearchFlightsResponse,
            self.live.flights, self.sandbox.flights, call,
        )  # fmt: skip

    async def get_flight_offer(self, caller: Principal, offer_id: str) -> pb.GetFlightOfferResponse:
        offer_id = validation.offer_id(offer_id)
        account = await self.keys.choose(caller, DUFFEL)
        sandboxed = offer_id.startswith(OFFER_PREFIX)
        if not sandboxed and account.is_sandbox:
            raise NotFound(f"flight offer {offer_id!r} not found", reason="OFFER_NOT_FOUND")
        provider = self.sandbox.flights if sandboxed else self.live.flights
        try:
            offer = await provider.get_flight_offer(offer_id, account.key)
        except ProviderError as exc:
            raise self._domain_error(exc, account) from None
        reply = pb.GetFlightOfferResponse(offer=offer)
        reply.source.CopyFrom(self._source(provider.name, time.time(), account, cached=False))
        return reply

    # -- stays ----------------------------------------------------------------------

    async def search_stays(
        self, caller: Principal, request: pb.SearchAccommodationsRequest
    ) -> pb.SearchAccommodationsResponse:
        query = validation.stays(request)
        if query.HasField("location"):
            center = GeoPoint(query.location.latitude, query.location.longitude)
        else:
            center = await self._locate(caller, query.destination, "destination")

        async def call(provider: StayProvider, key: str | None) -> pb.SearchAccommodationsResponse:
            found = await provider.search_stays(query, center, key)
            kept = filters.stays(found, query, (center.latitude, center.longitude))
            return pb.SearchAccommodationsResponse(accommodations=kept)

        # Cached by the point searched, so "Lisbon", "lisbon" and its coordinates share.
        identity = pb.SearchAccommodationsRequest()
        identity.CopyFrom(query)
        identity.ClearField("destination")
        identity.location.latitude = round(center.latitude, 4)
        identity.location.longitude = round(center.longitude, 4)
        return await self._answer(
            caller, DUFFEL, "stays", identity, pb.SearchAccommodationsResponse,
            self.live.stays, self.sandbox.stays, call,
        )  # fmt: skip

    async def get_stay(
        self, caller: Principal, request: pb.GetAccommodationRequest
    ) -> pb.GetAccommodationResponse:
        query = validation.stay(request)

        async def call(provider: StayProvider, key: str | None) -> pb.GetAccommodationResponse:
            return pb.GetAccommodationResponse(accommodation=await provider.get_stay(query, key))

        return await self._issued(
            caller, DUFFEL, "stay", query, pb.GetAccommodationResponse,
            query.accommodation_id.startswith(STAY_PREFIX),
            (self.live.stays, self.sandbox.stays), call,
            NotFound(f"accommodation {query.accommodation_id!r} not found",
                     reason="ACCOMMODATION_NOT_FOUND"),
        )  # fmt: skip

    # -- maps -----------------------------------------------------------------------

    async def search_places(
        self, caller: Principal, request: pb.SearchPlacesRequest
    ) -> pb.SearchPlacesResponse:
        query = validation.places(request)
        call = _listed(pb.SearchPlacesResponse, "places", lambda m, k: m.search_places(query, k))
        identity = _casefolded(query, "query")  # text search ignores case
        return await self._maps(caller, "places", identity, pb.SearchPlacesResponse, call)

    async def get_place(
        self, caller: Principal, request: pb.GetPlaceRequest
    ) -> pb.GetPlaceResponse:
        query = validation.place_id(request)

        async def call(provider: MapsProvider, key: str | None) -> pb.GetPlaceResponse:
            return pb.GetPlaceResponse(place=await provider.get_place(query, key))

        return await self._issued(
            caller, GOOGLE_MAPS, "place", query, pb.GetPlaceResponse,
            query.place_id.startswith(PLACE_PREFIX), (self.live.maps, self.sandbox.maps), call,
            NotFound(f"place {query.place_id!r} not found", reason="PLACE_NOT_FOUND"),
        )  # fmt: skip

    async def geocode(self, caller: Principal, request: pb.GeocodeRequest) -> pb.GeocodeResponse:
        query = validation.geocode(request)
        call = _listed(pb.GeocodeResponse, "results", lambda m, k: m.geocode(query, k))
        identity = _casefolded(query, "address")  # geocoders ignore case
        return await self._maps(caller, "geocode", identity, pb.GeocodeResponse, call)

    async def reverse_geocode(
        self, caller: Principal, request: pb.ReverseGeocodeRequest
    ) -> pb.ReverseGeocodeResponse:
        query = validation.reverse_geocode(request)
        call = _listed(
            pb.ReverseGeocodeResponse, "results", lambda m, k: m.reverse_geocode(query, k)
        )
        return await self._maps(caller, "reverse_geocode", query, pb.ReverseGeocodeResponse, call)

    async def travel_time(
        self, caller: Principal, request: pb.GetTravelTimeRequest
    ) -> pb.GetTravelTimeResponse:
        query = validation.travel_time(request)
        return await self._maps(
            caller, "travel_time", query, pb.GetTravelTimeResponse,
            lambda maps, key: maps.travel_time(query, key),
        )  # fmt: skip

    async def _locate(self, caller: Principal, text: str, field: str) -> GeoPoint:
        """Coordinates for a place name: known cities first, then the geocoder."""
        city = find_city(text)
        if city is not None:
            return GeoPoint(city.latitude, city.longitude)
        found = await self.geocode(caller, pb.GeocodeRequest(address=text, max_results=1))
        if not found.results:
            raise InvalidArgument.for_field(field, f"no place called {text!r} is known")
        location = found.results[0].location
        return GeoPoint(location.latitude, location.longitude)

    # -- weather --------------------------------------------------------------------

    async def weather(
        self, caller: Principal, request: pb.GetWeatherRequest
    ) -> pb.GetWeatherResponse:
        query, start, end = validation.weather(request)
        if query.HasField("location"):
            point = GeoPoint(query.location.latitude, query.location.longitude)
        else:
            point = await self._locate(caller, query.place, "place")
        city = nearest_city(point.latitude, point.longitude)
        near = distance_km(point.latitude, point.longitude, city.latitude, city.longitude)
        name = query.place or (city.name if near <= NEAREST_CITY_NAMING_KM else "")
        wanted = WeatherQuery(point=point, place=name, start=start, end=end)

        async def call(provider: WeatherProvider, key: str | None) -> pb.GetWeatherResponse:
            reply = await provider.weather(wanted, key)
            reply.time_zone = city.time_zone
            reply.place = reply.place or name
            return reply

        # Cached by the point (about 100 m) and days, however the place was spelled.
        identity = pb.GetWeatherRequest(start_date=query.start_date, end_date=query.end_date)
        identity.location.latitude = round(point.latitude, 3)
        identity.location.longitude = round(point.longitude, 3)
        return await self._answer(
            caller, OPENWEATHERMAP, "weather", identity, pb.GetWeatherResponse,
            self.live.weather, self.sandbox.weather, call,
        )  # fmt: skip

    # -- airports -------------------------------------------------------------------

    def list_airports(self, request: pb.ListAirportsRequest) -> pb.ListAirportsResponse:
        query, offset = validation.airports(request)
        matches = search_airports(query)
        page = matches[offset : offset + query.page_size]
        more = offset + query.page_size < len(matches)
        reply = pb.ListAirportsResponse(
            airports=[airport_message(a) for a in page],
            next_page_token=page_tokens.encode_token(
                {"o": offset + query.page_size}, validation.airports_fingerprint(query)
            )
            if more
            else "",
        )
        reply.source.data_source = pb.DATA_SOURCE_LIVE
        reply.source.provider = "airportsdata"
        return reply

    # -- the shared path ------------------------------------------------------------

    async def _maps(
        self,
        caller: Principal,
        kind: str,
        identity: Message,
        response_type: type[R],
        call: Callable[[MapsProvider, str | None], Awaitable[R]],
    ) -> R:
        """`_answer` for the maps RPCs, which all go to Google Maps or the sandbox."""
        return await self._answer(
            caller, GOOGLE_MAPS, kind, identity, response_type,
            self.live.maps, self.sandbox.maps, call,
        )  # fmt: skip

    async def _issued(
        self,
        caller: Principal,
        service: str,
        kind: str,
        query: Message,
        response_type: type[R],
        sandboxed: bool,
        providers: tuple[P, P],
        call: Callable[[P, str | None], Awaitable[R]],
        missing: NotFound,
    ) -> R:
        """`_answer` for one thing by its id: the id says which provider issued it (the
        sandbox's or the live one's), whatever key the caller has now; a live id asked
        for without a key is `missing`."""
        live, sandbox = providers
        account = await self.keys.choose(caller, service)
        if not sandboxed and account.is_sandbox:
            raise missing
        chosen = sandbox if sandboxed else live
        return await self._answer(
            caller, service, kind, query, response_type, chosen, sandbox, call, account=account
        )

    async def _answer(
        self,
        caller: Principal,
        service: str,
        kind: str,
        identity: Message,
        response_type: type[R],
        live: P,
        sandbox: P,
        call: Callable[[P, str | None], Awaitable[R]],
        *,
        account: ProviderAccount | None = None,
    ) -> R:
        """One cached provider call: `identity` is the normalised question the cache keys
        on; `call` asks the chosen provider (live with a key, else the sandbox)."""
        account = account or await self.keys.choose(caller, service)
        provider = sandbox if account.is_sandbox else live
        name = provider.name
        key = cache_key(self.cache.namespace, kind, name, account.partition, identity)

        async def produce() -> R:
            return await call(provider, account.key)

        try:
            got = await self.cache.fetch(
                kind, key, response_type, produce,
                rescue=lambda exc: isinstance(exc, ProviderUnavailable),
            )  # fmt: skip
        except ProviderError as exc:
            raise self._domain_error(exc, account) from None
        reply = response_type()
        reply.CopyFrom(got.message)
        source = self._source(name, got.fetch_time, account, cached=got.cached)
        if got.stale:
            source.data_source = pb.DATA_SOURCE_CACHE_STALE
        reply.source.CopyFrom(source)  # type: ignore[attr-defined]
        return reply

    @staticmethod
    def _source(
        provider: str, fetched: float, account: ProviderAccount, *, cached: bool
    ) -> pb.ResultSource:
        return pb.ResultSource(
            data_source=pb.DATA_SOURCE_SANDBOX if provider == SANDBOX else pb.DATA_SOURCE_LIVE,
            provider=provider,
            fetch_time=_timestamp(fetched),
            cached=cached,
            user_key=account.user_key and provider != SANDBOX,
        )

    @staticmethod
    def _domain_error(exc: ProviderError, account: ProviderAccount) -> DomainError:
        provider = exc.provider
        if isinstance(exc, ProviderUnavailable):
            return Unavailable(
                f"{provider} is not answering right now ({exc.detail}); try again shortly",
                reason="PROVIDER_UNAVAILABLE",
                metadata={"provider": provider},
                retry_after_seconds=exc.retry_after,
            )
        if isinstance(exc, ProviderAuthFailed):
            if account.user_key:
                return FailedPrecondition(
                    f"{provider} refused your own API key ({exc.detail}); replace or delete it",
                    reason="PROVIDER_KEY_REJECTED",
                    metadata={"provider": provider},
                )
            return Unavailable(
                f"{provider} refused the server's API key; the operator must fix it",
                reason="PROVIDER_UNAVAILABLE",
                metadata={"provider": provider},
            )
        if isinstance(exc, ProviderNotFound):
            return NotFound(f"{provider}: {exc.detail}", reason="NOT_FOUND")
        if isinstance(exc, ProviderRejected):
            return InvalidArgument(
                f"{provider} refused the request: {exc.detail}",
                reason="PROVIDER_REJECTED_REQUEST",
                metadata={"provider": provider},
            )
        return Unavailable(f"{provider} failed: {exc.detail}", reason="PROVIDER_UNAVAILABLE")


def _timestamp(epoch_seconds: float) -> Timestamp:
    """The Timestamp of a time.time() value, to the microsecond (as a datetime would be)."""
    stamp = Timestamp()
    stamp.FromMicroseconds(round(epoch_seconds * 1_000_000))
    return stamp


def _listed[R: Message](
    reply: type[R], field: str, ask: Callable[[MapsProvider, str | None], Awaitable[list[Any]]]
) -> Callable[[MapsProvider, str | None], Awaitable[R]]:
    """The call of a maps RPC whose reply carries what the provider found in one field."""

    async def call(provider: MapsProvider, key: str | None) -> R:
        return reply(**{field: await ask(provider, key)})

    return call


def _casefolded[M: Message](query: M, field: str) -> M:
    """A copy of `query` with its text `field` case-folded, for a provider that ignores case
    (so the cache does too)."""
    identity = type(query)()
    identity.CopyFrom(query)
    setattr(identity, field, getattr(query, field).casefold())
    return identity
