"""The OpenAPI document generated from the route table."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from gateway.discovery import discover_services
from gateway.openapi import build_openapi
from gateway.routes import RouteTable


@pytest.fixture(scope="module")
def document(echo_table: RouteTable) -> dict[str, Any]:
    return build_openapi(echo_table)


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _params(operation: dict[str, Any], where: str) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in operation["parameters"] if p["in"] == where}


def test_top_level(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"]
    assert "Error" in document["components"]["schemas"]


def test_operations_and_path_parameters(document: dict[str, Any]) -> None:
    get_thing = document["paths"]["/api/v1/things/{thing_id}"]["get"]
    assert get_thing["operationId"] == "EchoService.GetThing"
    assert _params(get_thing, "path")["thing_id"]["required"] is True
    assert get_thing["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/gatewaytest.v1.Thing"
    }
    assert get_thing["responses"]["default"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    # Same shape as GET /api/v1/things/{thing_id}: one OpenAPI path, the first names.
    assert "/api/v1/things/{thing_thing_id}" not in document["paths"]
    update = document["paths"]["/api/v1/things/{thing_id}"]["patch"]
    assert _params(update, "path")["thing_id"]["description"] == "The request's thing.thing_id."
    assert update["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/gatewaytest.v1.Thing"
    }
    assert "updateMask" in _params(update, "query")
    assert document["paths"]["/api/v1/things:search"]["post"]["operationId"] == (
        "EchoService.SearchThings"
    )
    assert document["paths"]["/api/v1/{name}"]["get"]["operationId"] == "EchoService.GetFile"


def test_query_parameters(document: dict[str, Any]) -> None:
    query = _params(document["paths"]["/api/v1/things"]["get"], "query")
    assert query["pageSize"]["schema"] == {"type": "integer", "format": "int32"}
    assert query["tags"]["schema"] == {"type": "array", "items": {"type": "string"}}
    assert query["color"]["schema"] == {"$ref": "#/components/schemas/gatewaytest.v1.Color"}
    assert query["filter.minCount"]["schema"]["format"] == "int64"
    assert query["since"]["schema"] == {"type": "string", "format": "date-time"}
    assert "shelf" in query
    shelf_query = _params(document["paths"]["/api/v1/shelves/{shelf}/things"]["get"], "query")
    assert "shelf" not in shelf_query
    # body "*": everything is in the body, nothing in the query
    assert _params(document["paths"]["/api/v1/echo"]["post"], "query") == {}


def test_message_schemas(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    thing = schemas["gatewaytest.v1.Thing"]["properties"]
    assert thing["thingId"] == {"type": "string"}
    assert thing["createdAt"] == {"type": "string", "format": "date-time"}
    assert thing["count"]["type"] == "string"
    assert thing["labels"] == {"type": "object", "additionalProperties": {"type": "string"}}
    assert thing["children"] == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/gatewaytest.v1.Thing"},
    }
    assert thing["price"] == {"$ref": "#/components/schemas/google.type.Money"}
    money = schemas["google.type.Money"]
    assert set(money["properties"]) == {"currencyCode", "units", "nanos"}
    latlng = schemas["google.type.LatLng"]
    assert latlng["properties"]["latitude"]["type"] == "number"
    assert schemas["gatewaytest.v1.Color"] == {
        "type": "string",
        "enum": ["COLOR_UNSPECIFIED", "COLOR_RED", "COLOR_BLUE"],
    }


def test_streaming_is_event_stream(document: dict[str, Any]) -> None:
    stream = document["paths"]["/api/v1/echo:stream"]["post"]
    event = stream["responses"]["200"]["content"]["text/event-stream"]["schema"]
    assert event["properties"]["event"]["enum"] == ["message", "error"]
    assert event["properties"]["data"]["contentSchema"]["anyOf"][0] == {
        "$ref": "#/components/schemas/gatewaytest.v1.StreamEchoResponse"
    }


def test_oneof_members_exclude_each_other(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    thing = schemas["gatewaytest.v1.Thing"]
    assert "allOf" not in thing  # proto3 optional is a one-member synthetic oneof
    search = schemas["gatewaytest.v1.SearchThingsRequest"]
    assert search["allOf"] == [{"not": {"required": ["shelf", "ownerId"]}}]


def test_field_mask_and_header_patterns(document: dict[str, Any]) -> None:
    update = document["paths"]["/api/v1/things/{thing_id}"]["patch"]
    mask = _params(update, "query")["updateMask"]["schema"]
    assert re.match(mask["pattern"], "name,dims.width")
    assert not re.match(mask["pattern"], "__main__")
    header = next(p for p in update["parameters"] if p["in"] == "header")
    assert not re.match(header["schema"]["pattern"], "caf\xe9")


def test_response_body_field(document: dict[str, Any]) -> None:
    name = document["paths"]["/api/v1/things/{thing_id}/name"]["get"]
    assert name["responses"]["200"]["content"]["application/json"]["schema"] == {"type": "string"}


def _check_document(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for ref in _refs(document):
        assert ref.startswith("#/components/schemas/")
        assert ref.removeprefix("#/components/schemas/") in schemas, ref
    operation_ids: list[str] = []
    for path, item in document["paths"].items():
        variables = set(re.findall(r"{([^}]+)}", path))
        for operation in item.values():
            operation_ids.append(operation["operationId"])
            assert set(_params(operation, "path")) == variables, path
    assert len(operation_ids) == len(set(operation_ids))


def test_echo_document_is_consistent(document: dict[str, Any]) -> None:
    _check_document(document)


def test_tripsage_document_is_consistent() -> None:
    document = build_openapi(RouteTable.from_services(discover_services()))
    _check_document(document)
    assert "/api/v1/auth/login" in document["paths"]
    assert "/api/v1/trips/{trip_id}:duplicate" in document["paths"]
