"""What an API key's scopes allow: which services and RPCs it may call.

A scope is "<service>:<action>" where service is auth, trips, travel, assistant
or "*", and action is one of
  "*" or "write"  every RPC of the service,
  "read"          RPCs that only read (Get*, List*, Search*, Lookup*, Export*, Geocode...),
  anything else   RPCs whose name starts with it, case-insensitively
                  ("search" allows SearchFlights; "GetTrip" allows exactly GetTrip).
A bare "<service>" means "<service>:*". A key without scopes may call everything
its owner may.
"""

from __future__ import annotations

import re

from tripsage_core.service_registry import SERVICE_NAMES

READ_VERBS = ("Get", "List", "Search", "Lookup", "Export", "Geocode", "ReverseGeocode")
_SCOPE = re.compile(r"^(\*|[a-z]+)(:(\*|[A-Za-z]{1,60}))?$")
_METHOD = re.compile(r"^/tripsage\.([a-z]+)\.v\d+\.[A-Za-z]+/([A-Za-z]+)$")
MAX_SCOPES = 20


def scope_problem(scope: str) -> str | None:
    """Why a scope is not well-formed, or None."""
    match = _SCOPE.match(scope)
    if match is None:
        return f"{scope!r} is not <service>:<action>, e.g. trips:read"
    if match.group(1) != "*" and match.group(1) not in SERVICE_NAMES:
        return f"{scope!r} names an unknown service (one of {', '.join(SERVICE_NAMES)} or *)"
    return None


def method_parts(method: str) -> tuple[str, str] | None:
    """("trips", "GetTrip") from "/tripsage.trips.v1.TripService/GetTrip"."""
    match = _METHOD.match(method)
    return (match.group(1), match.group(2)) if match else None


def allows(scopes: tuple[str, ...], method: str) -> bool:
    if not scopes:
        return True
    parts = method_parts(method)
    if parts is None:
        return False
    service, rpc = parts
    for scope in scopes:
        scope_service, _, action = scope.partition(":")
        if scope_service not in ("*", service):
            continue
        if action in ("", "*", "write"):
            return True
        if action == "read" and rpc.startswith(READ_VERBS):
            return True
        if rpc.lower().startswith(action.lower()):
            return True
    return False
