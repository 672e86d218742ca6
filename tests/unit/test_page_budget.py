"""The page byte budget: its size estimate bounds the protobuf encoding from above."""

from __future__ import annotations

import random

from google.protobuf import struct_pb2

from tripsage_core.page_budget import fitting, wire_size


def _json_value(rng: random.Random, depth: int = 0) -> object:
    kind = rng.choice(["num", "str", "bool", "null", "list", "dict"] if depth < 4 else ["num"])
    if kind == "num":
        return rng.choice([0, 1, -1.5, 1e300, 2**52])
    if kind == "str":
        return rng.choice(["", "a", "🧳" * rng.randint(0, 300), "x" * rng.randint(0, 5000)])
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "null":
        return None
    if kind == "list":
        return [_json_value(rng, depth + 1) for _ in range(rng.randint(0, 40))]
    return {f"k{i}": _json_value(rng, depth + 1) for i in range(rng.randint(0, 40))}


def test_the_estimate_is_never_below_the_encoded_struct() -> None:
    rng = random.Random(8)
    for _ in range(300):
        document = {"v": _json_value(rng)}
        encoded = struct_pb2.Struct()
        encoded.update(document)
        assert wire_size(document) >= encoded.ByteSize()


def test_a_page_keeps_what_fits_and_never_less_than_one_row() -> None:
    rows = ["x" * 100] * 10
    assert fitting(rows, budget=10**6) == 10
    assert fitting(rows, budget=3 * wire_size(rows[0])) == 3
    assert fitting(["x" * 10_000], budget=10) == 1
    assert fitting([], budget=10) == 0


def test_the_estimate_bounds_the_largest_trip_the_limits_allow() -> None:
    from datetime import UTC, date, datetime

    from services.trips import limits
    from services.trips.convert import trip_to_proto
    from services.trips.model import Destination, Money, Trip

    wide = "🧳"
    trip = Trip(
        title=wide * limits.TITLE, description=wide * limits.DESCRIPTION,
        start_date=date(2027, 5, 1), end_date=date(2027, 5, 9),
        destinations=[Destination(wide * limits.TITLE, "PT", 38.7, -9.1, date(2027, 5, 1),
                                  date(2027, 5, 2))] * limits.DESTINATIONS,
        budget=Money("EUR", 10**12, 999_999_999), tags=[wide * limits.TAG] * limits.TAGS,
        preferences={"n": list(range(limits.PREFERENCES_BYTES // 8))},
        id="00000000-0000-0000-0000-000000000000", owner_id="00000000-0000-0000-0000-000000000001",
        created_at=datetime.now(UTC), updated_at=datetime.now(UTC),
    )  # fmt: skip
    assert wire_size(trip) >= trip_to_proto(trip).ByteSize()
