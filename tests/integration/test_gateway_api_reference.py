"""The API reference over real HTTP: /api/openapi.json is valid OpenAPI 3.1, names every
annotated RPC with its proto comment and the HTTP semantics (304, 412, 201, ETag,
Location, downloads), and /api/docs renders it offline under its own strict CSP."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx
import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator, validate

from gateway.discovery import discover_services
from gateway.routes import bindings_for_method
from tripsage_core.proto_docs import comment

pytestmark = pytest.mark.database


def _operations(document: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    return {
        operation["operationId"]: (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }


async def test_the_document_is_valid_openapi_31_and_names_every_annotated_rpc(
    http: httpx.AsyncClient,
) -> None:
    reply = await http.get("/api/openapi.json")
    assert reply.status_code == 200
    document = reply.json()
    validate(document, cls=OpenAPIV31SpecValidator)
    operations = _operations(document)
    annotated = [
        (method, bindings_for_method(method))
        for service in discover_services()
        for method in service.methods
        if bindings_for_method(method)
    ]
    assert len(annotated) > 50
    for method, bindings in annotated:
        ids = [b.operation_id for b in bindings if b.operation_id in operations]
        assert ids, f"{method.full_name} is missing from the document"
        for operation_id in ids:
            described = operations[operation_id][2]["description"]
            assert described == comment(method.full_name) != "", method.full_name


async def test_the_document_describes_the_http_semantics(http: httpx.AsyncClient) -> None:
    operations = _operations((await http.get("/api/openapi.json")).json())
    _, _, get_trip = operations["TripService.GetTrip"]
    assert set(get_trip["responses"]) >= {"200", "304", "default"}
    assert "ETag" in get_trip["responses"]["200"]["headers"]
    assert "If-None-Match" in {p["name"] for p in get_trip["parameters"]}
    _, _, update = operations["TripService.UpdateTrip"]
    assert "412" in update["responses"]
    assert "If-Match" in {p["name"] for p in update["parameters"]}
    assert "412" in operations["TripService.DeleteTrip"][2]["responses"]
    _, _, create = operations["TripService.CreateTrip"]
    assert {"Location", "ETag"} <= set(create["responses"]["201"]["headers"])
    assert "200" in create["responses"]  # an idempotent replay
    assert "201" not in operations["TripService.DuplicateTrip"][2]["responses"]
    _, _, export = operations["TripService.ExportTrip"]
    download = export["responses"]["200"]
    assert set(download["content"]) == {"text/calendar", "application/json"}
    assert "Content-Disposition" in download["headers"]
    # Field descriptions come from the proto comments too.
    document = (await http.get("/api/openapi.json")).json()
    trip = document["components"]["schemas"]["tripsage.trips.v1.Trip"]
    assert trip["properties"]["etag"]["description"] == comment("tripsage.trips.v1.Trip.etag")


async def test_the_reference_page_is_self_contained_under_a_strict_csp(
    http: httpx.AsyncClient,
) -> None:
    page = await http.get("/api/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "style-src 'self'" in policy
    assert "script-src" not in policy  # no script at all (default-src 'none')
    body = page.text
    assert "<script" not in body
    # Every asset is the gateway's own: no absolute URL in any src or href.
    assets = re.findall(r'(?:src|href)="([^"]*)"', body)
    assert assets
    assert all(not url.startswith(("http:", "https:", "//")) for url in assets)
    assert "/api/docs/docs.css" in assets
    sheet = await http.get("/api/docs/docs.css")
    assert sheet.status_code == 200
    assert sheet.headers["content-type"].startswith("text/css")
    # Operations by tag, with their proto comments, parameters and schemas.
    document = (await http.get("/api/openapi.json")).json()
    for operation_id, (_, _, operation) in _operations(document).items():
        assert f'id="{operation_id}"' in body
        assert html.escape(operation["description"], quote=True) in body
    for tag in ("TripService", "AuthService", "TravelService", "AssistantService"):
        assert f'id="tag-{tag}"' in body
    assert 'id="schema-tripsage.trips.v1.Trip"' in body
    assert 'href="#schema-tripsage.trips.v1.Trip"' in body
    assert "If-None-Match" in body
    # An unknown method on the page is a 405 like any other path of the gateway's own.
    assert (await http.post("/api/docs")).status_code == 405
