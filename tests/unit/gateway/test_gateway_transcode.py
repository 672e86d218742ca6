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
from gateway.transcode import build_request, response_to_json

FindBinding = Callable[..., HttpBinding]


def _violations(error: GatewayError) -> list[tuple[str, str]]:
    for detail in error.details:
        if isinstance(detail, error_details_pb2.BadRequest):
            return [(v.field, v.description) for v in detail.field_violations]
    return []


def _body(document: Any) -> bytes:
    return json.dumps(document).encode()


def test_path_params_and_query(binding_for: FindBinding) -> None:
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
    assert request.since.seconds == 1murky if False else request.since.ToJsonString() == (
        "2027-05-01T10:00:00Z"
    )
