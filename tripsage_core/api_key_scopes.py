"""What an API key's scopes allow: which services and RPCs it may call.

A scope is "<service>:<action>" where service is auth, trips, travel, assistant
or "*", and action is one of
  "*" or "write"  every RPC of the service,
  "read"          RPCs that only read (Get*, List*, Search*, Lookup*, Export*, Geocode...),
  anything else   RPCs whose name starts with it, case-insensitively
                  ("search" allows SearchFlights; "GetTrip" allows exactly GetTrip).
A bare "<service>" means "<service>:*". A key without scopes may call everything
its owner may.

A key may only create keys within its own reach (`scopes_beyond`): every scope of the
new key must be covered by one scope of the creating key, judged on the scope
text rather than today's RPC list, so an RPC added later cannot widen a child key.
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


_EVERY_ACTION = ("", "*", "write")


def _covers(parent: str, child: str) -> bool:
    """Whether every RPC `child` allows, now or after RPCs are added, `parent` allows."""
    parent_service, _, parent_action = parent.partition(":")
    child_service, _, child_action = child.partition(":")
    if parent_service not in ("*", child_service):
        return False
    if parent_action in _EVERY_ACTION:
        return True
    if child_action in _EVERY_ACTION:
        return False
    if parent_action == "read":
        # RPC names are PascalCase (buf lint), so "getT" covers only Get* RPCs.
        return child_action == "read" or child_action.lower().startswith(
            tuple(verb.lower() for verb in READ_VERBS)
        )
    return child_action != "read" and child_action.lower().startswith(parent_action.lower())


def scopes_beyond(requested: list[str], own: tuple[str, ...]) -> list[str]:
    """The requested scopes (of a key being created) that the creating key's `own` do not cover.

    No scopes means every scope, on either side.
    """
    if not own:
        return []
    return [scope for scope in requested or ["*"] if not any(_covers(o, scope) for o in own)]


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
