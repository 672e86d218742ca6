"""Auth rules without a server: API key scopes, provider key formats, preferences."""

from __future__ import annotations

import time

import pytest

from services.auth.profile import clean_preferences, merge_changes
from services.auth.provider_checks import format_problem
from tripsage_core.api_key_scopes import allows, scope_problem, scopes_beyond
from tripsage_core.client_address import HEADER as CLIENT_ADDRESS_HEADER
from tripsage_core.client_address import seal
from tripsage_core.errors import FieldErrors
from tripsage_core.grpc_kit.caller import client_address

GET_TRIP = "/tripsage.trips.v1.TripService/GetTrip"
CREATE_TRIP = "/tripsage.trips.v1.TripService/CreateTrip"
SEARCH_FLIGHTS = "/tripsage.travel.v1.TravelService/SearchFlights"


@pytest.mark.parametrize(
    ("scopes", "method", "allowed"),
    [
        ((), CREATE_TRIP, True),
        (("trips:read",), GET_TRIP, True),
        (("trips:read",), CREATE_TRIP, False),
        (("trips",), CREATE_TRIP, True),
        (("trips:write",), CREATE_TRIP, True),
        (("travel:search",), SEARCH_FLIGHTS, True),
        (("travel:search",), GET_TRIP, False),
        (("*:read",), SEARCH_FLIGHTS, True),
        (("trips:GetTrip",), GET_TRIP, True),
        (("trips:GetTrip",), CREATE_TRIP, False),
        (("trips",), "/grpc.health.v1.Health/Check", False),
    ],
)
def test_scopes(scopes: tuple[str, ...], method: str, allowed: bool) -> None:
    assert allows(scopes, method) is allowed


@pytest.mark.parametrize(
    ("requested", "own", "beyond"),
    [
        (["trips:read"], (), []),  # an unscoped key holds every scope
        ([], (), []),
        ([], ("auth:CreateApiKey",), ["*"]),  # no scopes = every scope
        ([], ("*",), []),
        (["auth:CreateApiKey"], ("auth:CreateApiKey",), []),
        (["trips:read"], ("auth:CreateApiKey",), ["trips:read"]),
        (["auth"], ("auth:CreateApiKey",), ["auth"]),
        (["auth:createapikey"], ("auth:CreateApiKey",), []),
        (["trips:GetTrip", "trips:read", "trips:list"], ("trips:read",), []),
        (["trips:Create"], ("trips:read",), ["trips:Create"]),
        (["trips:read"], ("trips:Get",), ["trips:read"]),  # read is more than Get*
        (["trips:Ge"], ("trips:read",), ["trips:Ge"]),  # Ge* includes Generate*
        (["trips:read"], ("*:read",), []),
        (["*:read"], ("trips:read",), ["*:read"]),
        (["trips:read", "travel:search"], ("trips", "travel:write"), []),
        (["auth:*"], ("auth:write",), []),
    ],
)
def test_a_key_creates_only_keys_within_its_scopes(
    requested: list[str], own: tuple[str, ...], beyond: list[str]
) -> None:
    assert scopes_beyond(requested, own) == beyond


def test_scope_syntax() -> None:
    assert scope_problem("trips:read") is None
    assert scope_problem("*") is None
    assert scope_problem("flights") is not None
    assert scope_problem("trips:read; drop") is not None


@pytest.mark.parametrize(
    ("service", "key", "ok"),
    [
        ("openai", "sk-proj-abcdefghijklmnopqrstuvwxyz", True),
        ("openai", "pk-abcdefghijklmnopqrstuvwxyz", False),
        ("duffel", "duffel_test_abcdefghijklmnopqrstuvwxyz", True),
        ("duffel", "duffel_prod_abcdefghijklmnopqrstuvwxyz", False),
        ("google_maps", "AIza" + "A" * 35, True),
        ("google_maps", "AIza" + "A" * 30, False),
        ("openweathermap", "0123456789abcdef0123456789abcdef", True),
        ("openweathermap", "0123456789ABCDEF0123456789ABCDEF", False),
        ("mem0", "m0-abcdefghijklmnopqrstuvwxyz", True),
    ],
)
def test_provider_key_formats(service: str, key: str, ok: bool) -> None:
    assert (format_problem(service, key) is None) is ok


def test_preferences_are_normalised_and_checked() -> None:
    errors = FieldErrors()
    cleaned = clean_preferences(
        {"home_airport": " lhr ", "currency": "gbp", "dietary_needs": ["vegan", "", "vegan"],
         "cabin_class": "CABIN_CLASS_UNSPECIFIED"},
        errors,
    )  # fmt: skip
    assert not errors.violations
    assert cleaned == {"home_airport": "LHR", "currency": "GBP", "dietary_needs": ["vegan"]}
    clean_preferences({"home_airport": "ZZZ", "currency": "XYZ"}, errors)
    assert {v.field for v in errors.violations} == {
        "user.preferences.home_airport",
        "user.preferences.currency",
    }


def test_field_mask_changes_touch_only_their_fields() -> None:
    name, prefs = merge_changes(
        "Ana", {"currency": "EUR", "home_airport": "LIS"}, {"preferences.currency": None}
    )
    assert name == "Ana"
    assert prefs == {"home_airport": "LIS"}


class _Context:
    def __init__(self, metadata: tuple[tuple[str, str], ...], peer: str) -> None:
        self._metadata = metadata
        self._peer = peer

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return self._metadata

    def peer(self) -> str:
        return self._peer


@pytest.mark.parametrize(
    ("header", "peer", "address"),
    [
        # The address the gateway sealed counts; a caller's own claims do not.
        ((CLIENT_ADDRESS_HEADER, "sealed now"), "ipv4:127.0.0.1:5000", "203.0.113.9"),
        (("x-forwarded-for", "6.6.6.6"), "ipv4:127.0.0.1:5000", "127.0.0.1"),
        ((CLIENT_ADDRESS_HEADER, "6.6.6.6|1999999999|forged"), "ipv4:10.0.0.7:1", "10.0.0.7"),
        ((CLIENT_ADDRESS_HEADER, "sealed long ago"), "ipv4:10.0.0.7:1", "10.0.0.7"),
        (None, "ipv4:198.51.100.4:41234", "198.51.100.4"),
        (None, "ipv6:[::1]:41234", "::1"),
    ],
)
def test_the_client_address_used_for_throttling(
    header: tuple[str, str] | None, peer: str, address: str
) -> None:
    # Sealed here, under the key this process holds now (suites install their own).
    sealed = {
        "sealed now": seal("203.0.113.9"),
        "sealed long ago": seal("6.6.6.6", now=time.time() - 600),
    }
    metadata = () if header is None else ((header[0], sealed.get(header[1], header[1])),)
    assert client_address(_Context(metadata, peer)) == address  # type: ignore[arg-type]
