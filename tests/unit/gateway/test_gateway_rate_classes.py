"""Every RPC falls in a known rate-limit class, so a new one cannot slip through."""

from __future__ import annotations

from gateway.discovery import discover_services
from gateway.rate_classes import _BY_SERVICE, RATE_CLASSES, RouteClass, rate_class


def _every_rpc() -> list[str]:
    return [method.full_name for service in discover_services() for method in service.methods]


def test_every_rpc_of_the_descriptors_is_classified() -> None:
    rpcs = _every_rpc()
    assert len(rpcs) > 60  # the descriptors were found
    missing = sorted(name for name in rpcs if name not in RATE_CLASSES)
    assert missing == [], f"add these to gateway/rate_classes.py: {missing}"


def test_no_rpc_is_listed_in_two_classes() -> None:
    listed = [
        f"{service}.{method}"
        for service, classes in _BY_SERVICE.items()
        for methods in classes.values()
        for method in methods
    ]
    assert len(listed) == len(set(listed))


def test_the_tighter_classes() -> None:
    auth, travel = "tripsage.auth.v1.AuthService", "tripsage.travel.v1.TravelService"
    assistant = "tripsage.assistant.v1.AssistantService"
    for name in ("Register", "Login", "RequestPasswordReset", "ResetPassword"):
        assert rate_class(f"{auth}.{name}") is RouteClass.SIGN_IN
    for name in ("SendMessage", "StreamMessage", "PlanTrip"):
        assert rate_class(f"{assistant}.{name}") is RouteClass.CHAT
    for name in ("SearchFlights", "SearchAccommodations", "SearchPlaces"):
        assert rate_class(f"{travel}.{name}") is RouteClass.SEARCH
    assert rate_class(f"{auth}.RefreshSession") is RouteClass.GENERAL
    assert rate_class("tripsage.trips.v1.TripService.ListTrips") is RouteClass.GENERAL
    assert rate_class("test.v1.Unlisted.Method") is RouteClass.GENERAL
