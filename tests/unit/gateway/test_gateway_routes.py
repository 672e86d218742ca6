"""The route table built from google.api.http options."""

from __future__ import annotations

import re

import pytest

from gateway.discovery import discover_services, short_service_name
from gateway.routes import NoRoute, RouteMatch, RouteTable


def _match(table: RouteTable, method: str, path: str) -> RouteMatch:
    found = table.match(method, path)
    assert isinstance(found, RouteMatch), found
    return found


def test_bindings_come_from_annotations(echo_table: RouteTable) -> None:
    sources = {(b.http_method, b.template.source, b.method.name) for b in echo_table.bindings}
    assert ("GET", "/api/v1/things/{thing_id}", "GetThing") in sources
    assert ("PATCH", "/api/v1/things/{thing.thing_id}", "UpdateThing") in sources
    # additional_bindings
    assert ("GET", "/api/v1/things", "ListThings") in sources
    assert ("GET", "/api/v1/shelves/{shelf}/things", "ListThings") in sources
    # An RPC without an http option is not exposed.
    assert all(b.method.name != "Unbound" for b in echo_table.bindings)


def test_binding_properties(echo_table: RouteTable) -> None:
    found = _match(echo_table, "POST", "/api/v1/echo:stream")
    binding = found.binding
    assert binding.server_streaming
    assert binding.grpc_path == "/gatewaytest.v1.EchoService/StreamEcho"
    assert binding.operation_id == "EchoService.StreamEcho"
    assert binding.body == "*"
    assert _match(echo_table, "GET", "/api/v1/things/x/name").binding.response_body == "name"


def test_literal_beats_variable(echo_table: RouteTable) -> None:
    assert _match(echo_table, "GET", "/api/v1/things/special").binding.method.name == (
        "GetSpecialThing"
    )
    other = _match(echo_table, "GET", "/api/v1/things/other")
    assert other.binding.method.name == "GetThing"
    assert other.path_params == {"thing_id": "other"}


def test_custom_verbs(echo_table: RouteTable) -> None:
    assert _match(echo_table, "POST", "/api/v1/things:search").binding.method.name == (
        "SearchThings"
    )
    duplicate = _match(echo_table, "POST", "/api/v1/things/t1:duplicate")
    assert duplicate.binding.method.name == "DuplicateThing"
    assert duplicate.path_params == {"thing_id": "t1"}


def test_wrong_method_lists_allowed_methods(echo_table: RouteTable) -> None:
    assert echo_table.match("PUT", "/api/v1/things/t1") == NoRoute(
        allowed=("GET", "PATCH", "DELETE")
    )
    # A verb path never falls through to the plain {thing_id} template.
    assert echo_table.match("GET", "/api/v1/things/t1:duplicate") == NoRoute(allowed=("POST",))


def test_unknown_path(echo_table: RouteTable) -> None:
    assert echo_table.match("GET", "/api/v1/nothing") == NoRoute(allowed=())
    assert echo_table.match("GET", "/") == NoRoute(allowed=())


def test_multi_segment_binding(echo_table: RouteTable) -> None:
    found = _match(echo_table, "GET", "/api/v1/files/a/b.txt")
    assert found.binding.method.name == "GetFile"
    assert found.path_params == {"name": "files/a/b.txt"}


@pytest.fixture(scope="module")
def tripsage_table() -> RouteTable:
    return RouteTable.from_services(discover_services())


@pytest.mark.parametrize(
    ("method", "path", "rpc"),
    [
        ("POST", "/api/v1/auth/login", "tripsage.auth.v1.AuthService.Login"),
        (
            "POST",
            "/api/v1/auth/credentials:resolve",
            "tripsage.auth.v1.AuthService.ResolveCredential",
        ),
        ("GET", "/api/v1/users/me", "tripsage.auth.v1.AuthService.GetCurrentUser"),
        ("PATCH", "/api/v1/users/me", "tripsage.auth.v1.AuthService.UpdateCurrentUser"),
        ("GET", "/api/v1/trips/abc", "tripsage.trips.v1.TripService.GetTrip"),
        ("POST", "/api/v1/trips/abc:duplicate", "tripsage.trips.v1.TripService.DuplicateTrip"),
        ("POST", "/api/v1/flights:search", "tripsage.travel.v1.TravelService.SearchFlights"),
        (
            "POST",
            "/api/v1/conversations/c1/messages:stream",
            "tripsage.assistant.v1.AssistantService.StreamMessage",
        ),
    ],
)
def test_generated_services_are_routed(
    tripsage_table: RouteTable, method: str, path: str, rpc: str
) -> None:
    assert _match(tripsage_table, method, path).binding.method.full_name == rpc


def test_short_service_names() -> None:
    assert short_service_name("tripsage.auth.v1.AuthService") == "auth"
    assert short_service_name("tripsage.assistant.v1.AssistantService") == "assistant"
    assert short_service_name("grpc.health.v1.Health") == "health"


def _every_template_tried(table: RouteTable, method: str, path: str) -> RouteMatch | NoRoute:
    """The table's rule, spelled out by trying every template (what RouteTable.match
    does with its index of candidates)."""
    matches = []
    for binding in table.bindings:
        params = binding.template.match(path)
        if params is not None:
            matches.append(RouteMatch(binding=binding, path_params=params))
    if any(match.binding.template.verb is not None for match in matches):
        matches = [match for match in matches if match.binding.template.verb is not None]
    for match in matches:
        if match.binding.http_method == method:
            return match
    return NoRoute(allowed=tuple(dict.fromkeys(match.binding.http_method for match in matches)))


def _filled(source: str, value: str) -> str:
    """The template with each variable's wildcards (or the whole ``{field}``) as value."""

    def one(variable: re.Match[str]) -> str:
        _, _, pattern = variable.group(1).partition("=")
        return re.sub(r"\*\*?", value, pattern) if pattern else value

    return re.sub(r"\{([^}]*)\}", one, source)


def _paths_near(source: str) -> list[str]:
    """Paths a template matches and paths it almost matches."""
    filled = [source.split("{", 1)[0]]  # up to the first variable
    filled += [_filled(source, value) for value in ("x1", "a%2Fb", "a/b/c", "", "x:cancel")]
    more = []
    for path in filled:
        more += [path, path + "/extra", path.rsplit("/", 1)[0], path + ":nope"]
        more += [path.replace("v1", "v%31"), path.replace("/api/", "/API/")]
        if ":" in path:
            more.append(path.rsplit(":", 1)[0])
    return more


@pytest.mark.parametrize("services", ["echo", "generated"])
def test_match_is_every_template_tried(services: str, echo_table: RouteTable) -> None:
    table = echo_table if services == "echo" else RouteTable.from_services(discover_services())
    paths = {"/", "", "/api", "/api/v1", "/a:b:c", "/api/v1/x::"}
    verbs = {binding.template.verb for binding in table.bindings} - {None}
    for binding in table.bindings:
        near = _paths_near(binding.template.source)
        paths.update(near)
        if "**" in binding.template.source:  # "**" takes a path ending in any verb too
            paths.update(f"{path}:{verb}" for path in near for verb in verbs)
    assert len(paths) > 100
    for path in sorted(paths):
        for method in ("GET", "POST", "PATCH", "DELETE", "PUT", "OPTIONS"):
            assert table.match(method, path) == _every_template_tried(table, method, path), (
                method,
                path,
            )
