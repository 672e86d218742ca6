"""Path template parsing and matching (google.api.http grammar)."""

from __future__ import annotations

import pytest

from gateway.path_template import SegmentKind, TemplateError, parse_template


def test_literal_template_matches_only_itself() -> None:
    template = parse_template("/api/v1/trips")
    assert template.match("/api/v1/trips") == {}
    assert template.match("/api/v1/trips/x") is None
    assert template.match("/api/v1") is None
    assert template.match("api/v1/trips") is None


def test_single_variable_binds_one_decoded_segment() -> None:
    template = parse_template("/api/v1/trips/{trip_id}")
    assert template.match("/api/v1/trips/abc%20d") == {"trip_id": "abc d"}
    assert template.match("/api/v1/trips/") is None
    assert template.match("/api/v1/trips/a/b") is None


def test_nested_field_path_variable() -> None:
    template = parse_template("/api/v1/trips/{trip.id}/items/{item.id}")
    assert [v.dotted for v in template.variables] == ["trip.id", "item.id"]
    assert template.match("/api/v1/trips/t1/items/i2") == {"trip.id": "t1", "item.id": "i2"}


def test_multi_segment_variable() -> None:
    template = parse_template("/v1/{name=files/**}")
    assert template.match("/v1/files/a/b/c") == {"name": "files/a/b/c"}
    assert template.match("/v1/files/a%2Fb") == {"name": "files/a%2Fb"}
    assert template.match("/v1/other/a") is None


def test_pattern_variable_with_wildcards() -> None:
    template = parse_template("/v1/{name=projects/*/trips/*}:share")
    assert template.verb == "share"
    assert template.match("/v1/projects/p/trips/t:share") == {"name": "projects/p/trips/t"}
    assert template.match("/v1/projects/p/trips/t") is None


@pytest.mark.parametrize(
    ("source", "path", "expected"),
    [
        ("/api/v1/flights:search", "/api/v1/flights:search", {}),
        ("/api/v1/auth/credentials:resolve", "/api/v1/auth/credentials:resolve", {}),
        ("/api/v1/trips/{trip_id}:duplicate", "/api/v1/trips/t-1:duplicate", {"trip_id": "t-1"}),
        ("/api/v1/trips/{trip_id}:duplicate", "/api/v1/trips/t-1", None),
        ("/api/v1/flights:search", "/api/v1/flights", None),
    ],
)
def test_custom_verb(source: str, path: str, expected: dict[str, str] | None) -> None:
    assert parse_template(source).match(path) == expected


def test_literals_are_more_specific_than_variables() -> None:
    literal = parse_template("/api/v1/users/me")
    variable = parse_template("/api/v1/users/{user_id}")
    multi = parse_template("/api/v1/{name=**}")
    verb = parse_template("/api/v1/users/{user_id}:lookup")
    assert literal.specificity > variable.specificity > multi.specificity
    assert verb.specificity > literal.specificity


def test_segment_kinds() -> None:
    template = parse_template("/a/*/{b}/{c=**}")
    kinds = [segment.kind for segment in template.segments]
    assert kinds == [SegmentKind.LITERAL, SegmentKind.SINGLE, SegmentKind.SINGLE, SegmentKind.MULTI]


def test_openapi_path_rendering() -> None:
    assert parse_template("/v1/trips/{trip.id}:duplicate").openapi_path() == (
        "/v1/trips/{trip_id}:duplicate"
    )
    assert parse_template("/v1/{name=files/**}").openapi_path() == "/v1/{name}"


@pytest.mark.parametrize(
    "source",
    [
        "no/leading/slash",
        "/a/{unterminated",
        "/a/{b}}",
        "/a//b",
        "/a/{bad-name}",
        "/a/**/b",
        "/a/{x={y}}",
        "/a:",
    ],
)
def test_bad_templates_are_rejected(source: str) -> None:
    with pytest.raises(TemplateError):
        parse_template(source)
