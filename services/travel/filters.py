"""Filters and orders offers the same way whichever provider found them."""

from __future__ import annotations

from services.travel.reference import distance_km
from tripsage.travel.v1 import travel_service_pb2 as pb
from tripsage_core.money import proto_amount


def _departs_within(offer: pb.FlightOffer, request: pb.SearchFlightsRequest) -> bool:
    for offer_slice, wanted in zip(offer.slices, request.slices, strict=False):
        if not offer_slice.segments:
            return False
        local = offer_slice.segments[0].departure_local_time[11:16]
        if wanted.earliest_departure_time and local < wanted.earliest_departure_time:
            return False
        if wanted.latest_departure_time and local > wanted.latest_departure_time:
            return False
    return True


def flight_offers(
    offers: list[pb.FlightOffer], request: pb.SearchFlightsRequest
) -> list[pb.FlightOffer]:
    include, exclude = set(request.include_airlines), set(request.exclude_airlines)
    kept = []
    for offer in offers:
        carriers = {offer.owner_airline} | {
            s.marketing_carrier for sl in offer.slices for s in sl.segments
        }
        if include and not carriers <= include:
            continue
        if carriers & exclude:
            continue
        if request.HasField("max_stops") and any(
            sl.stops > request.max_stops for sl in offer.slices
        ):
            continue
        if request.HasField("max_price") and (
            offer.total_price.currency_code == request.max_price.currency_code
            and proto_amount(offer.total_price) > proto_amount(request.max_price)
        ):
            continue
        if not _departs_within(offer, request):
            continue
        kept.append(offer)
    order = request.sort_by
    if order == pb.FLIGHT_SORT_ORDER_DURATION:
        kept.sort(key=lambda o: (o.total_duration.seconds, proto_amount(o.total_price)))
    elif order == pb.FLIGHT_SORT_ORDER_DEPARTURE_TIME:
        kept.sort(
            key=lambda o: (
                o.slices[0].segments[0].departure_time.seconds,
                proto_amount(o.total_price),
            )
        )
    elif order == pb.FLIGHT_SORT_ORDER_STOPS:
        kept.sort(key=lambda o: (o.total_stops, proto_amount(o.total_price)))
    else:
        kept.sort(key=lambda o: (proto_amount(o.total_price), o.total_duration.seconds))
    return kept[: request.max_results]


def stays(
    found: list[pb.Accommodation],
    request: pb.SearchAccommodationsRequest,
    center: tuple[float, float],
) -> list[pb.Accommodation]:
    wanted_amenities = set(request.amenities)
    kinds = set(request.types)
    kept = []
    for stay in found:
        if not stay.distance_meters and stay.HasField("location"):
            stay.distance_meters = int(
                1000
                * distance_km(center[0], center[1], stay.location.latitude, stay.location.longitude)
            )
        if kinds and stay.type not in kinds:
            continue
        if request.min_review_score and stay.review_score < request.min_review_score:
            continue
        if wanted_amenities and not wanted_amenities <= set(stay.amenities):
            continue
        if request.HasField("max_nightly_price") and (
            stay.nightly_price.currency_code == request.max_nightly_price.currency_code
            and proto_amount(stay.nightly_price) > proto_amount(request.max_nightly_price)
        ):
            continue
        kept.append(stay)
    order = request.sort_by
    if order == pb.ACCOMMODATION_SORT_ORDER_PRICE:
        kept.sort(key=lambda s: proto_amount(s.total_price))
    elif order == pb.ACCOMMODATION_SORT_ORDER_RATING:
        kept.sort(key=lambda s: (-s.review_score, -s.review_count))
    elif order == pb.ACCOMMODATION_SORT_ORDER_DISTANCE:
        kept.sort(key=lambda s: s.distance_meters)
    return kept[: request.max_results]
