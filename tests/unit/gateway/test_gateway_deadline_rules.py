"""The deadline rules: route classes, the client's headers, their syntax."""

from __future__ import annotations

import pytest

from gateway.deadlines import Deadlines, RouteClass, client_timeout, route_class
from gateway.errors import GatewayError


@pytest.mark.parametrize(
    ("rpc", "streaming", "expected"),
    [
        ("tripsage.trips.v1.TripService.GetTrip", False, RouteClass.DEFAULT),
        ("tripsage.assistant.v1.AssistantService.SendMessage", False, RouteClass.LONG),
        ("tripsage.assistant.v1.AssistantService.PlanTrip", False, RouteClass.LONG),
        ("tripsage.travel.v1.TravelService.SearchFlights", False, RouteClass.LONG),
        ("tripsage.travel.v1.TravelService.GetWeather", False, RouteClass.LONG),
        ("tripsage.travel.v1.TravelService.ListAirports", False, RouteClass.DEFAULT),
        ("tripsage.assistant.v1.AssistantService.StreamMessage", True, RouteClass.STREAM),
    ],
)
def test_route_classes(rpc: str, streaming: bool, expected: RouteClass) -> None:
    assert route_class(rpc, streaming) is expected


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("5S", 5), ("200m", 0.2), ("2M", 120), ("1H", 3600), ("1500000u", 1.5), ("99999999n", 0.1)],
)
def test_grpc_timeout_units(value: str, seconds: float) -> None:
    assert client_timeout({"grpc-timeout": value}) == pytest.approx(seconds)


def test_the_shortest_asked_wins_and_the_class_caps_it() -> None:
    deadlines = Deadlines(default=1.0, long=10.0, stream=100.0)
    assert deadlines.timeout("GetTrip", False, {}) == 1.0
    assert deadlines.timeout("GetTrip", False, {"request-timeout": "60"}) == 1.0
    assert (
        deadlines.timeout(
            "tripsage.assistant.v1.AssistantService.PlanTrip", False, {"request-timeout": "2.5"}
        )
        == 2.5
    )
    asked = {"request-timeout": "50", "grpc-timeout": "20S"}
    assert deadlines.timeout("StreamMessage", True, asked) == 20.0


@pytest.mark.parametrize(
    "headers",
    [
        {"grpc-timeout": "5"},
        {"grpc-timeout": "0S"},
        {"request-timeout": "1e9"},
        {"request-timeout": "0.0"},
    ],
)
def test_bad_values_are_invalid_argument_naming_the_header(headers: dict[str, str]) -> None:
    with pytest.raises(GatewayError) as raised:
        client_timeout(headers)
    assert raised.value.to_response().http_status == 400
    assert next(iter(headers)) in raised.value.message


@pytest.mark.parametrize("bad", [0.0, -1.0, float("inf"), float("nan")])
def test_deadlines_must_be_positive_and_finite(bad: float) -> None:
    with pytest.raises(ValueError, match="deadline"):
        Deadlines(default=bad)
