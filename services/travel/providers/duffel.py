"""Duffel: flights (offer requests, offers) and stays (search, all rates of a result, quotes).

API reference: https://duffel.com/docs/api. Every call carries `Authorization:
Bearer <access token>` and `Duffel-Version`; bodies are wrapped in {"data": ...}.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from services.travel.durations import duration, iso_seconds
from services.travel.ports import GeoPoint
from services.travel.providers.http import ProviderHttp, ProviderNotFound, ProviderRejected
from tripsage.common.v1 import cabin_class_pb2
from tripsage.travel.v1 import travel_service_pb2 as pb
from tripsage_core.grpc_kit.timestamps import to_timestamp
from tripsage_core.money import proto_amount, proto_of

DUFFEL_VERSION = "v2"
NAME = "duffel"

CABINS = {
    cabin_class_pb2.CABIN_CLASS_ECONOMY: "economy",
    cabin_class_pb2.CABIN_CLASS_PREMIUM_ECONOMY: "premium_economy",
    cabin_class_pb2.CABIN_CLASS_BUSINESS: "business",
    cabin_class_pb2.CABIN_CLASS_FIRST: "first",
}
CABIN_ENUMS: dict[str, int] = {word: value for value, word in CABINS.items()}


class DuffelProvider:
    """Implements FlightProvider and StayProvider."""

    name = NAME

    def __init__(self, http: ProviderHttp) -> None:
        self.http = http

    async def _call(
        self,
        key: str | None,
        method: str,
        path: str,
        operation: str,
        *,
        idempotent: bool,
        params: Mapping[str, str] | None = None,
        json: Any = None,
    ) -> Any:
        """One Duffel API call, carrying the key and the API version Duffel asks for."""
        headers = {
            "Authorization": f"Bearer {key or ''}",
            "Duffel-Version": DUFFEL_VERSION,
            "Accept-Encoding": "gzip",
        }
        return await self.http.request(
            method, path, operation=operation, idempotent=idempotent,
            headers=headers, params=params, json=json,
        )  # fmt: skip

    async def search_flights(
        self, request: pb.SearchFlightsRequest, key: str | None
    ) -> list[pb.FlightOffer]:
        body: dict[str, Any] = {
            "slices": [_slice_body(s) for s in request.slices],
            "passengers": _passengers_body(request.passengers),
            "cabin_class": CABINS.get(request.cabin_class, "economy"),
        }
        if request.HasField("max_stops"):
            body["max_connections"] = request.max_stops
        reply = await self._call(
            key,
            "POST",
            "/air/offer_requests",
            "offer_requests.create",
            idempotent=False,
            params={"return_offers": "true", "supplier_timeout": "20000"},
            json={"data": body},
        )
        return [offer_from_duffel(o) for o in reply["data"].get("offers", [])]

    async def get_flight_offer(self, offer_id: str, key: str | None) -> pb.FlightOffer:
        reply = await self._call(
            key,
            "GET",
            f"/air/offers/{offer_id}",
            "offers.get",
            idempotent=True,
        )
        return offer_from_duffel(reply["data"])

    async def search_stays(
        self, request: pb.SearchAccommodationsRequest, center: GeoPoint, key: str | None
    ) -> list[pb.Accommodation]:
        guests: list[dict[str, Any]] = [{"type": "adult"} for _ in range(request.adults)]
        guests += [{"type": "child", "age": age} for age in request.child_ages]
        body = {
            "rooms": request.rooms,
            "location": {
                "radius": max(1, round(request.radius_meters / 1000)),
                "geographic_coordinates": {
                    "latitude": center.latitude,
                    "longitude": center.longitude,
                },
            },
            "check_in_date": request.check_in_date,
            "check_out_date": request.check_out_date,
            "guests": guests,
        }
        reply = await self._call(
            key,
            "POST",
            "/stays/search",
            "stays.search",
            idempotent=True,
            json={"data": body},
        )
        return [stay_from_duffel(r) for r in reply["data"].get("results", [])]

    async def get_stay(
        self, request: pb.GetAccommodationRequest, key: str | None
    ) -> pb.Accommodation:
        reply = await self._call(
            key,
            "POST",
            f"/stays/search_results/{request.accommodation_id}/actions/fetch_all_rates",
            "stays.fetch_all_rates",
            idempotent=True,
        )
        stay = stay_from_duffel(reply["data"], with_rates=True)
        await self._confirm_cheapest_rate(stay, key)
        return stay

    async def _confirm_cheapest_rate(self, stay: pb.Accommodation, key: str | None) -> None:
        """Quote the cheapest rate: search prices are indicative, a quote is what it costs now."""
        if not stay.rates:
            return
        cheapest = min(stay.rates, key=lambda r: proto_amount(r.total_price))
        try:
            reply = await self._call(
                key,
                "POST",
                "/stays/quotes",
                "stays.quotes.create",
                idempotent=False,
                json={"data": {"rate_id": cheapest.id}},
            )
        except (ProviderRejected, ProviderNotFound):
            # The rate is gone since the search: drop it rather than show it.
            stay.rates.remove(cheapest)
            return
        quote = reply["data"]
        nights = _nights(stay.check_in_date, stay.check_out_date)
        total = Decimal(str(quote.get("total_amount") or proto_amount(cheapest.total_price)))
        currency = quote.get("total_currency") or cheapest.total_price.currency_code
        cheapest.total_price.CopyFrom(proto_of(total, currency))
        cheapest.nightly_price.CopyFrom(proto_of(total / nights, currency))
        stay.total_price.CopyFrom(cheapest.total_price)
        stay.nightly_price.CopyFrom(cheapest.nightly_price)


def _slice_body(item: pb.FlightSlice) -> dict[str, Any]:
    body: dict[str, Any] = {
        "origin": item.origin,
        "destination": item.destination,
        "departure_date": item.departure_date,
    }
    if item.earliest_departure_time or item.latest_departure_time:
        body["departure_time"] = {
            "from": item.earliest_departure_time or "00:00",
            "to": item.latest_departure_time or "23:59",
        }
    return body


def _passengers_body(passengers: pb.Passengers) -> list[dict[str, Any]]:
    body: list[dict[str, Any]] = [{"type": "adult"} for _ in range(passengers.adults)]
    body += [{"age": age} for age in passengers.child_ages]
    body += [{"type": "infant_without_seat"} for _ in range(passengers.infants)]
    return body


def _local_and_utc(local: str, zone: str | None) -> tuple[str, datetime]:
    naive = datetime.fromisoformat(local)
    if naive.tzinfo is not None:
        return naive.replace(tzinfo=None).isoformat(timespec="minutes"), naive
    aware = naive.replace(tzinfo=ZoneInfo(zone) if zone else UTC)
    return naive.isoformat(timespec="minutes"), aware


def _segment(raw: dict[str, Any]) -> pb.FlightSegment:
    origin, destination = raw["origin"], raw["destination"]
    dep_local, dep = _local_and_utc(raw["departing_at"], origin.get("time_zone"))
    arr_local, arr = _local_and_utc(raw["arriving_at"], destination.get("time_zone"))
    marketing = raw.get("marketing_carrier") or {}
    operating = raw.get("operating_carrier") or {}
    passengers = raw.get("passengers") or [{}]
    seconds = iso_seconds(raw.get("duration")) or int((arr - dep).total_seconds())
    return pb.FlightSegment(
        marketing_carrier=marketing.get("iata_code") or "",
        marketing_carrier_name=marketing.get("name") or "",
        flight_number=raw.get("marketing_carrier_flight_number") or "",
        operating_carrier=(
            operating.get("iata_code") or ""
            if operating.get("iata_code") != marketing.get("iata_code")
            else ""
        ),
        origin=origin.get("iata_code", ""),
        destination=destination.get("iata_code", ""),
        departure_time=to_timestamp(dep),
        arrival_time=to_timestamp(arr),
        departure_local_time=dep_local,
        arrival_local_time=arr_local,
        duration=duration(seconds),
        aircraft=(raw.get("aircraft") or {}).get("name") or "",
        cabin_class=CABIN_ENUMS.get(passengers[0].get("cabin_class") or "", 0),  # type: ignore[arg-type]
    )


def _checked_bags(raw_slices: list[dict[str, Any]]) -> int:
    for raw_slice in raw_slices:
        for segment in raw_slice.get("segments", []):
            for passenger in segment.get("passengers", []):
                return sum(
                    int(b.get("quantity", 0))
                    for b in passenger.get("baggages", [])
                    if b.get("type") == "checked"
                )
    return 0


def _condition_allowed(conditions: dict[str, Any], name: str) -> bool:
    condition = conditions.get(name)
    return bool(condition and condition.get("allowed"))


def offer_from_duffel(raw: dict[str, Any]) -> pb.FlightOffer:
    slices = []
    for raw_slice in raw.get("slices", []):
        segments = [_segment(s) for s in raw_slice.get("segments", [])]
        seconds = iso_seconds(raw_slice.get("duration"))
        if not seconds and segments:
            seconds = segments[-1].arrival_time.seconds - segments[0].departure_time.seconds
        slices.append(
            pb.FlightOfferSlice(
                origin=(raw_slice.get("origin") or {}).get("iata_code", ""),
                destination=(raw_slice.get("destination") or {}).get("iata_code", ""),
                duration=duration(seconds),
                stops=max(0, len(segments) - 1),
                segments=segments,
            )
        )
    conditions = raw.get("conditions") or {}
    owner = raw.get("owner") or {}
    currency = raw.get("total_currency") or "EUR"
    offer = pb.FlightOffer(
        id=raw["id"],
        slices=slices,
        total_price=proto_of(raw.get("total_amount") or "0", currency),
        tax_amount=proto_of(raw.get("tax_amount") or "0", raw.get("tax_currency") or currency),
        owner_airline=owner.get("iata_code") or "",
        owner_airline_name=owner.get("name") or "",
        cabin_class=slices[0].segments[0].cabin_class if slices and slices[0].segments else 0,  # type: ignore[arg-type]
        total_stops=sum(s.stops for s in slices),
        total_duration=duration(sum(s.duration.seconds for s in slices)),
        checked_bags=_checked_bags(raw.get("slices", [])),
        refundable=_condition_allowed(conditions, "refund_before_departure"),
        changeable=_condition_allowed(conditions, "change_before_departure"),
        provider=NAME,
        passenger_prices=_passenger_prices(raw, currency),
    )
    if raw.get("expires_at"):
        offer.expire_time.CopyFrom(to_timestamp(_instant(raw["expires_at"])))
    return offer


def _passenger_type(passenger: dict[str, Any]) -> str:
    kind = str(passenger.get("type") or "")
    if kind.startswith("infant"):
        return "infant"
    if kind:
        return kind
    age = passenger.get("age")
    return "adult" if age is None or int(age) >= 18 else "child" if int(age) >= 2 else "infant"


def _passenger_prices(raw: dict[str, Any], currency: str) -> list[pb.PassengerPrice]:
    """Duffel prices an offer as a whole: an even split, typed when everyone is alike."""
    passengers = raw.get("passengers") or []
    if not passengers:
        return []
    kinds = {_passenger_type(p) for p in passengers}
    kind = kinds.pop() if len(kinds) == 1 else "passenger"
    each = Decimal(str(raw.get("total_amount") or "0")) / len(passengers)
    return [
        pb.PassengerPrice(
            passenger_type=kind, count=len(passengers), price=proto_of(each, currency)
        )
    ]


def _instant(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _nights(check_in: str, check_out: str) -> int:
    try:
        return max(1, (date.fromisoformat(check_out) - date.fromisoformat(check_in)).days)
    except ValueError:
        return 1


def _address(location: dict[str, Any]) -> str:
    address = location.get("address") or {}
    parts = [
        address.get("line_one"),
        address.get("postal_code"),
        address.get("city_name"),
        address.get("country_code"),
    ]
    return ", ".join(p for p in parts if p)


def _rates(raw: dict[str, Any], nights: int) -> list[pb.AccommodationRate]:
    rates = []
    for room in raw.get("rooms") or []:
        for rate in room.get("rates") or []:
            currency = rate.get("total_currency") or "EUR"
            total = Decimal(str(rate.get("total_amount") or "0"))
            timeline = rate.get("cancellation_timeline") or []
            refundable = any(Decimal(str(t.get("refund_amount") or 0)) > 0 for t in timeline)
            policy = (
                "; ".join(
                    f"refund {t.get('refund_amount')} {t.get('currency', currency)} "
                    f"if cancelled before {t.get('before')}"
                    for t in timeline
                )
                or "non-refundable"
            )
            rates.append(
                pb.AccommodationRate(
                    id=rate.get("id", ""),
                    room_type=room.get("name") or "",
                    board_type=(rate.get("board_type") or "room_only").replace("_", " "),
                    nightly_price=proto_of(total / nights, currency),
                    total_price=proto_of(total, currency),
                    refundable=refundable,
                    cancellation_policy=policy,
                    max_occupancy=int(room.get("max_occupancy") or 0),
                )
            )
    return rates


def stay_from_duffel(raw: dict[str, Any], *, with_rates: bool = False) -> pb.Accommodation:
    accommodation = raw.get("accommodation") or {}
    location = accommodation.get("location") or {}
    coordinates = location.get("geographic_coordinates") or {}
    check_in, check_out = raw.get("check_in_date", ""), raw.get("check_out_date", "")
    nights = _nights(check_in, check_out)
    currency = raw.get("cheapest_rate_currency") or "EUR"
    rates = _rates(accommodation, nights)
    cheapest = raw.get("cheapest_rate_total_amount")
    if cheapest is None and rates:
        best = min(rates, key=lambda r: (r.total_price.units, r.total_price.nanos))
        total = Decimal(best.total_price.units) + Decimal(best.total_price.nanos) / 10**9
        currency = best.total_price.currency_code
    else:
        total = Decimal(str(cheapest or "0"))
    stay = pb.Accommodation(
        id=raw.get("id", ""),
        name=accommodation.get("name") or "",
        type=pb.ACCOMMODATION_TYPE_HOTEL,
        description=accommodation.get("description") or "",
        address=_address(location),
        star_rating=int(accommodation.get("rating") or 0),
        review_score=float(accommodation.get("review_score") or 0),
        review_count=int(accommodation.get("review_count") or 0),
        amenities=[a.get("type", "") for a in accommodation.get("amenities") or []],
        photo_urls=[p.get("url", "") for p in accommodation.get("photos") or []],
        nightly_price=proto_of(total / nights, currency),
        total_price=proto_of(total, currency),
        rates=rates if with_rates else [],
        check_in_date=check_in,
        check_out_date=check_out,
        provider=NAME,
    )
    if coordinates:
        stay.location.latitude = float(coordinates.get("latitude", 0))
        stay.location.longitude = float(coordinates.get("longitude", 0))
    return stay
