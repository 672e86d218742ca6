"""Page tokens and Idempotency-Key attempts, without a database."""

from __future__ import annotations

import pytest

from tripsage.trips.v1 import trip_service_pb2 as pb
from tripsage_core.errors import InvalidArgument
from tripsage_core.idempotency import request_hash
from tripsage_core.page_tokens import decode_token, encode_token, page_limit


def test_a_token_round_trips_only_with_its_own_filters() -> None:
    token = encode_token({"k": "2027-05-01", "id": "abc"}, "trips|start_date|None")
    assert decode_token(token, "trips|start_date|None") == {"k": "2027-05-01", "id": "abc"}
    for fingerprint, bad in (("trips|update_time|None", token), ("x", "not a token"), ("x", "W10")):
        with pytest.raises(InvalidArgument) as caught:
            decode_token(bad, fingerprint)
        assert caught.value.violations[0].field == "page_token"


def test_page_sizes_default_cap_and_refuse_negatives() -> None:
    assert page_limit(0) == 50
    assert page_limit(1000) == 100
    assert page_limit(7) == 7
    with pytest.raises(InvalidArgument):
        page_limit(-1)


def test_the_request_hash_tells_requests_apart_and_ignores_nothing() -> None:
    first = pb.CreateTripRequest(trip=pb.Trip(title="Lisbon", tags=["a", "b"]))
    same = pb.CreateTripRequest(trip=pb.Trip(title="Lisbon", tags=["a", "b"]))
    other = pb.CreateTripRequest(trip=pb.Trip(title="Lisbon", tags=["b", "a"]))
    assert request_hash(first) == request_hash(same)
    assert request_hash(first) != request_hash(other)
