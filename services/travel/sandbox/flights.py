"""Sandbox flights: schedules and fares that follow the real geography.

Airports, their coordinates and time zones come from airportsdata. For each
slice a handful of real carriers is picked (home carriers of either end, hub
carriers whose hub lies on the way, low-cost carriers on short hops). A flight
is direct when the carrier's hub is one end of the slice, otherwise it connects
at the hub. Block time is 30 minutes plus the great-circle distance at 800
km/h. The fare per adult and slice is (35 + 0.09 EUR/km) times the cabin
factor (1, 1.7, 3.8, 6.5), a booking-window factor (x1.8 under 3 days before
departure, x1.4 under 14, x1.15 under 30, x1 under 90, x0.92 beyond), x0.82 for
a connection, the carrier's factor and a seeded jitter; children pay 75% and
infants 10%; taxes are 12% plus 18 EUR per passenger and slice.

The schedule and fares depend on the route, the dates, the passengers and the
cabin only, as a real airline's do: sort order, price cap, stops, airlines and
departure-time windows are applied afterwards (services/travel/filters.py), so
they only order and remove offers. Offer ids carry that query (and the currency
prices are shown in), so GetFlightOffer rebuilds the same offer without any
storage, whichever search found it.
"""

from __future__ import annotations

import base64
import itertools
import zlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from services.travel.durations import duration
from services.travel.reference import (
    Airport,
    airports,
    currency_of_country,
    distance_km,
    main_airport,
)
from services.travel.sandbox.seeded import NAME, from_eur, priced_currency, rng
from tripsage.common.v1 import cabin_class_pb2
from tripsage.travel.v1 import travel_service_pb2 as pb
from tripsage_core.errors import NotFound
from tripsage_core.grpc_kit.timestamps import to_timestamp
from tripsage_core.money import proto_amount, proto_of

OFFER_PREFIX = "sbx_off_"
OFFER_LIFETIME = timedelta(minutes=30)
CRUISE_KMH = 800.0


@dataclass(frozen=True)
class Carrier:
    code: str
    name: str
    hub: str
    price_factor: float
    low_cost: bool = False


CARRIERS = (
    Carrier("TP", "TAP Air Portugal", "LIS", 1.0),
    Carrier("BA", "British Airways", "LHR", 1.1),
    Carrier("LH", "Lufthansa", "FRA", 1.1),
    Carrier("AF", "Air France", "CDG", 1.05),
    Carrier("KL", "KLM", "AMS", 1.05),
    Carrier("IB", "Iberia", "MAD", 1.0),
    Carrier("AZ", "ITA Airways", "FCO", 1.0),
    Carrier("LX", "Swiss", "ZRH", 1.15),
    Carrier("SK", "SAS", "CPH", 1.05),
    Carrier("TK", "Turkish Airlines", "IST", 0.95),
    Carrier("EK", "Emirates", "DXB", 1.1),
    Carrier("QR", "Qatar Airways", "DOH", 1.1),
    Carrier("SQ", "Singapore Airlines", "SIN", 1.15),
    Carrier("CX", "Cathay Pacific", "HKG", 1.1),
    Carrier("NH", "All Nippon Airways", "HND", 1.1),
    Carrier("QF", "Qantas", "SYD", 1.1),
    Carrier("UA", "United Airlines", "EWR", 1.05),
    Carrier("AA", "American Airlines", "DFW", 1.0),
    Carrier("DL", "Delta Air Lines", "ATL", 1.05),
    Carrier("AC", "Air Canada", "YYZ", 1.0),
    Carrier("LA", "LATAM Airlines", "GRU", 0.95),
    Carrier("ET", "Ethiopian Airlines", "ADD", 0.9),
    Carrier("AI", "Air India", "DEL", 0.9),
    Carrier("KE", "Korean Air", "ICN", 1.05),
    Carrier("CA", "Air China", "PEK", 0.95),
    Carrier("AM", "Aeromexico", "MEX", 0.95),
    Carrier("U2", "easyJet", "LGW", 0.6, low_cost=True),
    Carrier("FR", "Ryanair", "STN", 0.5, low_cost=True),
    Carrier("VY", "Vueling", "BCN", 0.6, low_cost=True),
)
CABIN_FACTORS: dict[int, float] = {
    cabin_class_pb2.CABIN_CLASS_ECONOMY: 1.0,
    cabin_class_pb2.CABIN_CLASS_PREMIUM_ECONOMY: 1.7,
    cabin_class_pb2.CABIN_CLASS_BUSINESS: 3.8,
    cabin_class_pb2.CABIN_CLASS_FIRST: 6.5,
}
LOW_COST_MAX_KM = 3000.0
CHILD_SHARE = 0.75
INFANT_SHARE = 0.1
OPTIONS_PER_CARRIER = 3
MAX_CARRIERS = 6


def booking_window_factor(days_ahead: int) -> float:
    if days_ahead < 3:
        return 1.8
    if days_ahead < 14:
        return 1.4
    if days_ahead < 30:
        return 1.15
    if days_ahead < 90:
        return 1.0
    return 0.92


def _aircraft(km: float, pick: float) -> str:
    if km < 1500:
        return "Airbus A320neo" if pick < 0.5 else "Boeing 737-800"
    if km < 5000:
        return "Airbus A321neo" if pick < 0.5 else "Boeing 737 MAX 8"
    return "Boeing 787-9" if pick < 0.5 else "Airbus A350-900"


def _block_minutes(km: float) -> int:
    minutes = 30 + km / CRUISE_KMH * 60
    return int(round(minutes / 5) * 5)


def _routing(carrier: Carrier, origin: Airport, destination: Airport) -> list[Airport] | None:
    """The airports a carrier flies this slice through, or None when it would not."""
    direct = distance_km(
        origin.latitude, origin.longitude, destination.latitude, destination.longitude
    )
    ends = {origin.iata, destination.iata}
    if carrier.low_cost:
        return [origin, destination] if direct <= LOW_COST_MAX_KM else None
    if carrier.hub in ends:
        if direct > 15000:
            return None  # beyond a single hop; other carriers connect
        return [origin, destination]
    hub = airports().get(carrier.hub)
    if hub is None:
        return None
    first = distance_km(origin.latitude, origin.longitude, hub.latitude, hub.longitude)
    second = distance_km(hub.latitude, hub.longitude, destination.latitude, destination.longitude)
    # No connection at a hub next door to either end (EWR for JFK), nor a long detour.
    if min(first, second) < 200 or first + second > direct * 1.35 + 400:
        return None
    return [origin, hub, destination]


def _carriers_for(origin: Airport, destination: Airport, seed: str) -> list[Carrier]:
    draw = rng(seed, "carriers", origin.iata, destination.iata)
    usable = [c for c in CARRIERS if _routing(c, origin, destination) is not None]
    home = [
        c
        for c in usable
        if (hub := airports().get(c.hub)) is not None
        and hub.country in (origin.country, destination.country)
    ]
    others = [c for c in usable if c not in home]
    draw.shuffle(others)
    return (home + others)[:MAX_CARRIERS]


FIRST_DEPARTURE = 5 * 60  # minutes after midnight, local time
LAST_DEPARTURE = 22 * 60 + 55


def _departure_minutes(draw_value: float) -> int:
    span = (LAST_DEPARTURE - FIRST_DEPARTURE) // 5
    return FIRST_DEPARTURE + int(draw_value * (span + 1)) * 5


def _slice(
    request: pb.FlightSlice, carrier: Carrier, option: int, seed: str, cabin: int
) -> pb.FlightOfferSlice | None:
    origin, destination = main_airport(request.origin), main_airport(request.destination)
    if origin is None or destination is None:
        return None
    route = _routing(carrier, origin, destination)
    if route is None:
        return None
    draw = rng(seed, request.origin, request.destination, request.departure_date, carrier.code,
               option)  # fmt: skip
    day = date.fromisoformat(request.departure_date)
    start = _departure_minutes(draw.random())
    departs = datetime.combine(day, time(start // 60, start % 60), ZoneInfo(origin.time_zone))
    segments = []
    for leg_from, leg_to in itertools.pairwise(route):
        km = distance_km(leg_from.latitude, leg_from.longitude, leg_to.latitude, leg_to.longitude)
        block = timedelta(minutes=_block_minutes(km))
        arrives = (departs.astimezone(UTC) + block).astimezone(ZoneInfo(leg_to.time_zone))
        segments.append(
            pb.FlightSegment(
                marketing_carrier=carrier.code,
                marketing_carrier_name=carrier.name,
                flight_number=str(100 + draw.randrange(3900)),
                origin=leg_from.iata,
                destination=leg_to.iata,
                departure_time=to_timestamp(departs),
                arrival_time=to_timestamp(arrives),
                departure_local_time=departs.replace(tzinfo=None).isoformat(timespec="minutes"),
                arrival_local_time=arrives.replace(tzinfo=None).isoformat(timespec="minutes"),
                duration=duration(block.total_seconds()),
                aircraft=_aircraft(km, draw.random()),
                cabin_class=cabin,  # type: ignore[arg-type]
            )
        )
        connection = timedelta(minutes=60 + 5 * draw.randrange(20))
        departs = (arrives.astimezone(UTC) + connection).astimezone(ZoneInfo(leg_to.time_zone))
    total = segments[-1].arrival_time.seconds - segments[0].departure_time.seconds
    return pb.FlightOfferSlice(
        origin=origin.iata,
        destination=destination.iata,
        duration=duration(total),
        stops=len(segments) - 1,
        segments=segments,
    )


def _slice_fare_eur(
    offer_slice: pb.FlightOfferSlice, carrier: Carrier, cabin: int, days_ahead: int, jitter: float
) -> float:
    first, last = main_airport(offer_slice.origin), main_airport(offer_slice.destination)
    assert first is not None
    assert last is not None
    km = distance_km(first.latitude, first.longitude, last.latitude, last.longitude)
    fare: float = (35 + 0.09 * km) * CABIN_FACTORS.get(cabin, 1.0)
    fare *= booking_window_factor(days_ahead)
    if offer_slice.stops:
        fare *= 0.82
    return fare * carrier.price_factor * jitter


def schedule_query(request: pb.SearchFlightsRequest) -> pb.SearchFlightsRequest:
    """The part of a search the sandbox's flights and fares depend on (and the currency
    their prices are shown in); everything else filters or orders them."""
    query = pb.SearchFlightsRequest(
        passengers=request.passengers, cabin_class=request.cabin_class, currency=request.currency
    )
    for item in request.slices:
        query.slices.add(
            origin=item.origin, destination=item.destination, departure_date=item.departure_date
        )
    return query


def generate_offers(request: pb.SearchFlightsRequest, today: date) -> list[pb.FlightOffer]:
    """Every sandbox offer for a normalised request, in generation order (ids are stable),
    before any filter or sort order."""
    request = schedule_query(request)
    offer_query = encode_query(request)
    # Schedules and fare jitter follow the route and dates alone: the same flights
    # whatever the party, cabin or currency.
    seed = encode_query(pb.SearchFlightsRequest(slices=request.slices))
    cabin = request.cabin_class or cabin_class_pb2.CABIN_CLASS_ECONOMY
    first = request.slices[0]
    origin, destination = main_airport(first.origin), main_airport(first.destination)
    if origin is None or destination is None:
        return []
    # Priced in the currency asked for, else the origin country's (when it has a rate).
    currency = priced_currency(request.currency or currency_of_country(origin.country))
    passengers = request.passengers
    kinds = [
        (kind, count, share)
        for kind, count, share in (
            ("adult", passengers.adults, 1.0),
            ("child", len(passengers.child_ages), CHILD_SHARE),
            ("infant", passengers.infants, INFANT_SHARE),
        )
        if count
    ]
    offers: list[pb.FlightOffer] = []
    for carrier in _carriers_for(origin, destination, seed):
        for option in range(OPTIONS_PER_CARRIER):
            slices = [_slice(s, carrier, option, seed, cabin) for s in request.slices]
            if any(s is None for s in slices):
                continue
            built = [s for s in slices if s is not None]
            draw = rng(seed, "fare", carrier.code, option)
            base = 0.0
            for offer_slice, item in zip(built, request.slices, strict=True):
                days_ahead = (date.fromisoformat(item.departure_date) - today).days
                base += _slice_fare_eur(
                    offer_slice, carrier, cabin, days_ahead, 0.9 + 0.3 * draw.random()
                )
            prices, total, taxes = [], Decimal(0), Decimal(0)
            for kind, count, share in kinds:
                tax = 0.12 * base * share + 18 * len(built)
                each = proto_of(from_eur(base * share + tax, currency), currency)
                prices.append(pb.PassengerPrice(passenger_type=kind, count=count, price=each))
                total += proto_amount(each) * count
                taxes += Decimal(str(round(from_eur(tax, currency), 2))) * count
            premium = cabin in (
                cabin_class_pb2.CABIN_CLASS_BUSINESS,
                cabin_class_pb2.CABIN_CLASS_FIRST,
            )
            long_haul = any(s.duration.seconds > 6 * 3600 for s in built)
            offers.append(
                pb.FlightOffer(
                    id=f"{OFFER_PREFIX}{offer_query}.{len(offers)}",
                    slices=built,
                    total_price=proto_of(total, currency),
                    tax_amount=proto_of(taxes, currency),
                    passenger_prices=prices,
                    owner_airline=carrier.code,
                    owner_airline_name=carrier.name,
                    cabin_class=cabin,
                    total_stops=sum(s.stops for s in built),
                    total_duration=duration(sum(s.duration.seconds for s in built)),
                    checked_bags=0 if carrier.low_cost else 2 if premium else int(long_haul),
                    refundable=premium,
                    changeable=not carrier.low_cost,
                    provider=NAME,
                )
            )
    return offers


def encode_query(request: pb.SearchFlightsRequest) -> str:
    packed = zlib.compress(request.SerializeToString(deterministic=True), 9)
    return base64.urlsafe_b64encode(packed).decode().rstrip("=")


def decode_offer_id(offer_id: str) -> tuple[pb.SearchFlightsRequest, int] | None:
    if not offer_id.startswith(OFFER_PREFIX):
        return None
    body, _, index = offer_id[len(OFFER_PREFIX) :].rpartition(".")
    try:
        raw = zlib.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        request = pb.SearchFlightsRequest.FromString(raw)
        return request, int(index)
    except Exception:  # any malformed id is simply unknown
        return None


class SandboxFlights:
    """Implements FlightProvider."""

    name = NAME

    def __init__(self, today: type[date] = date) -> None:
        self._date = today

    def _today(self) -> date:
        return datetime.now(UTC).date()

    async def search_flights(
        self, request: pb.SearchFlightsRequest, key: str | None
    ) -> list[pb.FlightOffer]:
        offers = generate_offers(request, self._today())
        expires = to_timestamp(datetime.now(UTC) + OFFER_LIFETIME)
        for offer in offers:
            offer.expire_time.CopyFrom(expires)
        return offers

    async def get_flight_offer(self, offer_id: str, key: str | None) -> pb.FlightOffer:
        decoded = decode_offer_id(offer_id)
        if decoded is not None:
            request, index = decoded
            offers = await self.search_flights(request, key)
            if 0 <= index < len(offers):
                return offers[index]
        raise NotFound(f"flight offer {offer_id!r} not found", reason="OFFER_NOT_FOUND")
