"""HTTP request -> proto request, proto response -> JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from google.rpc import error_details_pb2

from gateway.errors import GatewayError
from gateway.routes import HttpBinding
from gateway.transcode import build_request, enum_name_from_text, response_to_json

FindBinding = Callable[..., HttpBinding]


def _violations(error: GatewayError) -> list[tuple[str, str]]:
    for detail in error.details:
        if isinstance(detail, error_details_pb2.BadRequest):
            return [(v.field, v.description) for v in detail.field_violations]
    return []


def _body(document: Any) -> bytes:
    return json.dumps(document).encode()


def test_query_parameters_of_every_kind(binding_for: FindBinding) -> None:
    binding = binding_for("ListThings", "GET")
    query = [
        ("pageSize", "20"),
        ("page_token", "tok"),
        ("color", "COLOR_RED"),
        ("tags", "a"),
        ("tags", "b"),
        ("includeArchived", "true"),
        ("filter.minCount", "5"),
        ("filter.name_prefix", "pre"),
        ("filter.colors", "COLOR_BLUE"),
        ("filter.colors", "1"),
        ("since", "2027-05-01T10:00:00Z"),
        ("flagged", "false"),
        ("minScore", "0.5"),
    ]
    request = build_request(binding, {}, query, b"")
    assert request.page_size == 20
    assert request.page_token == "tok"
    assert request.color == 1
    assert list(request.tags) == ["a", "b"]
    assert request.include_archived is True
    assert request.filter.min_count == 5
    assert request.filter.name_prefix == "pre"
    assert list(request.filter.colors) == [2, 1]
    assert request.since.ToJsonString() == "2027-05-01T10:00:00Z"
    assert request.HasField("flagged")
    assert request.flagged.value is False
    assert request.min_score == 0.5


def test_path_variable_fills_the_request(binding_for: FindBinding) -> None:
    request = build_request(binding_for("GetThing"), {"thing_id": "t 1"}, [], b"")
    assert request.thing_id == "t 1"


def test_path_variable_from_additional_binding(binding_for: FindBinding) -> None:
    binding = binding_for("ListThings", "GET", "/api/v1/shelves/")
    request = build_request(binding, {"shelf": "s1"}, [("pageSize", "2")], b"")
    assert (request.shelf, request.page_size) == ("s1", 2)


@pytest.mark.parametrize(
    ("key", "value", "field"),
    [
        ("pageSize", "many", "pageSize"),
        ("includeArchived", "maybe", "includeArchived"),
        ("color", "PURPLE", "color"),
        ("since", "yesterday", "since"),
        ("nope", "1", "nope"),
        ("filter", "x", "filter"),
        ("filter.nope", "x", "filter.nope"),
        ("pageSize", "1.5", "pageSize"),
    ],
)
def test_bad_query_parameters_are_400_naming_the_field(
    binding_for: FindBinding, key: str, value: str, field: str
) -> None:
    with pytest.raises(GatewayError) as caught:
        build_request(binding_for("ListThings", "GET"), {}, [(key, value)], b"")
    assert caught.value.http_status == 400
    assert caught.value.code.name == "INVALID_ARGUMENT"
    assert [name for name, _ in _violations(caught.value)] == [field]


def test_single_valued_query_field_given_twice(binding_for: FindBinding) -> None:
    with pytest.raises(GatewayError) as caught:
        build_request(
            binding_for("ListThings", "GET"), {}, [("pageSize", "1"), ("page_size", "2")], b""
        )
    assert _violations(caught.value)[0][0] == "pageSize"


def test_query_cannot_override_path(binding_for: FindBinding) -> None:
    shelf = binding_for("ListThings", "GET", "/api/v1/shelves/")
    with pytest.raises(GatewayError) as caught:
        build_request(shelf, {"shelf": "s1"}, [("shelf", "s2")], b"")
    assert _violations(caught.value) == [("shelf", "already set by the URL path")]


def test_body_star_accepts_both_spellings(binding_for: FindBinding) -> None:
    binding = binding_for("DuplicateThing")
    request = build_request(binding, {"thing_id": "t1"}, [], _body({"new_name": "copy"}))
    assert (request.thing_id, request.new_name) == ("t1", "copy")
    request = build_request(binding, {"thing_id": "t1"}, [], _body({"newName": "copy"}))
    assert request.new_name == "copy"


def test_path_wins_over_body(binding_for: FindBinding) -> None:
    binding = binding_for("DuplicateThing")
    request = build_request(binding, {"thing_id": "path"}, [], _body({"thingId": "body"}))
    assert request.thing_id == "path"


def test_body_field_binding(binding_for: FindBinding) -> None:
    binding = binding_for("UpdateThing")
    body = {
        "name": "Lisbon",
        "color": "COLOR_BLUE",
        "count": "12",
        "tags": ["x"],
        "createdAt": "2027-05-01T00:00:00Z",
        "price": {"currencyCode": "EUR", "units": "10", "nanos": 500000000},
        "location": {"latitude": 38.7, "longitude": -9.1},
        "labels": {"k": "v"},
        "dims": {"width": 1.5},
    }
    request = build_request(
        binding, {"thing.thing_id": "t9"}, [("updateMask", "name,tags")], _body(body)
    )
    thing = request.thing
    assert thing.thing_id == "t9"
    assert thing.name == "Lisbon"
    assert thing.count == 12
    assert thing.price.currency_code == "EUR"
    assert thing.location.longitude == -9.1
    assert dict(thing.labels) == {"k": "v"}
    assert list(request.update_mask.paths) == ["name", "tags"]


def test_query_cannot_set_body_field(binding_for: FindBinding) -> None:
    with pytest.raises(GatewayError) as caught:
        build_request(binding_for("CreateThing"), {}, [("thing.name", "x")], _body({}))
    assert _violations(caught.value)[0][0] == "thing.name"


def test_empty_body_is_an_empty_message(binding_for: FindBinding) -> None:
    request = build_request(binding_for("SearchThings"), {}, [], b"")
    assert request.query == ""


def test_body_star_ignores_query(binding_for: FindBinding) -> None:
    request = build_request(binding_for("SearchThings"), {}, [("_", "123")], _body({"limit": 3}))
    assert request.limit == 3


@pytest.mark.parametrize(
    ("body", "field", "text"),
    [
        (b"{not json", "", "not valid JSON"),
        (b"[1, 2]", "", "JSON object"),
        (_body({"limit": "ten"}), "limit", "integer"),
        (_body({"limt": 3}), "limt", "unknown field"),
        (_body({"query": 5}), "query", ""),
        (_body({"limit": 1.5}), "limit", ""),
        (_body({"shelf": "a", "ownerId": "b"}), "ownerId", "only one of shelf, ownerId"),
        (_body({"limit": 1, "limit ": 2}), "limit ", "unknown field"),
        (_body({"owner_id": "a", "ownerId": "b"}), "ownerId", "name the same field"),
    ],
)
def test_bad_bodies_are_400_naming_the_field(
    binding_for: FindBinding, body: bytes, field: str, text: str
) -> None:
    with pytest.raises(GatewayError) as caught:
        build_request(binding_for("SearchThings"), {}, [], body)
    assert caught.value.http_status == 400
    violations = _violations(caught.value)
    assert violations[0][0] == field
    assert text in caught.value.message or text in violations[0][1]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "ok", "nope": 1}, "nope"),
        ({"name": 5}, "name"),
        ({"dims": {"depth": 1}}, "dims.depth"),
        ({"createdAt": "not a time"}, "createdAt"),
        ({"price": {"units": "x"}}, "price.units"),
        ({"color": "COLOR_GREEN"}, "color"),
        ({"children": [{"count": "x"}]}, "children[0].count"),
        ({"tags": "notalist"}, "tags"),
        ({"dims": [1]}, "dims"),
        ({"children": [{}, 3]}, "children[1]"),
        ({"children": [{}, {"dims": {"width": "w"}}]}, "children[1].dims.width"),
    ],
)
def test_nested_body_errors_name_the_nested_field(
    binding_for: FindBinding, body: dict[str, Any], field: str
) -> None:
    with pytest.raises(GatewayError) as caught:
        build_request(binding_for("UpdateThing"), {"thing.thing_id": "t"}, [], _body(body))
    assert _violations(caught.value)[0][0] in (field, f"thing.{field}")


def test_enum_short_names_in_urls(echo_pb2: ModuleType) -> None:
    color = echo_pb2.DESCRIPTOR.enum_types_by_name["Color"]
    assert enum_name_from_text(color, "COLOR_RED") == "COLOR_RED"
    assert enum_name_from_text(color, "red") == "COLOR_RED"
    assert enum_name_from_text(color, "color-blue") == "COLOR_BLUE"
    assert enum_name_from_text(color, "2") == "2"
    assert enum_name_from_text(color, "green") == "green"


def test_response_json_is_camel_case_with_defaults(
    binding_for: FindBinding, echo_pb2: ModuleType
) -> None:
    thing = echo_pb2.Thing(thing_id="t1", count=3)
    rendered = response_to_json(binding_for("GetThing"), thing)
    assert rendered["thingId"] == "t1"
    assert rendered["count"] == "3"
    assert rendered["active"] is False
    assert rendered["tags"] == []
    assert rendered["color"] == "COLOR_UNSPECIFIED"
    assert rendered["labels"] == {}
    assert "note" not in rendered  # explicit presence: absent when unset
    assert "createdAt" not in rendered  # message fields: absent when unset


def test_response_body_selects_one_field(binding_for: FindBinding, echo_pb2: ModuleType) -> None:
    thing = echo_pb2.Thing(thing_id="t1", name="Porto")
    assert response_to_json(binding_for("GetThingName"), thing) == "Porto"


def test_string_path_variables_are_set_as_json_format_sets_them() -> None:
    """Every generated route's top-level string path variable (set directly, not through
    json_format's parser) gives the request json_format.ParseDict gives."""
    from google.protobuf import json_format

    from gateway.discovery import discover_services
    from gateway.routes import RouteTable
    from gateway.transcode import message_class

    checked = 0
    for binding in RouteTable.from_services(discover_services()).bindings:
        if binding.body:
            continue
        fields = binding.method.input_type.fields_by_name
        params = {
            variable.dotted: "a b/é%"
            for variable in binding.template.variables
            if len(variable.field_path) == 1
            and fields[variable.dotted].type == fields[variable.dotted].TYPE_STRING
        }
        if not params or len(params) != len(binding.template.variables):
            continue
        expected = message_class(binding.method.input_type)()
        json_format.ParseDict(params, expected)
        assert build_request(binding, params, [], b"") == expected, binding.template.source
        checked += 1
    assert checked > 10
