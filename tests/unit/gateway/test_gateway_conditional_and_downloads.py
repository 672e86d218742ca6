"""Entity-tag parsing and comparison (RFC 9110) and download file names (RFC 6266)."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from gateway.conditional import EntityTag, header_value, not_modified, parse_entity_tags
from gateway.downloads import content_disposition, safe_filename


def test_entity_tags_parse_as_rfc_9110_writes_them() -> None:
    assert parse_entity_tags('"3"') == [EntityTag("3")]
    assert parse_entity_tags('W/"3"') == [EntityTag("3", weak=True)]
    assert parse_entity_tags(' "a" , W/"b","c" ') == [
        EntityTag("a"),
        EntityTag("b", weak=True),
        EntityTag("c"),
    ]
    assert parse_entity_tags("*") == []
    for malformed in ("3", '"3', 'w/"3"', '"a" "b"', "", '"a",,', '"a\x00"'):
        assert parse_entity_tags(malformed) is None, malformed


def test_if_none_match_compares_weakly_and_star_matches() -> None:
    assert not_modified({"if-none-match": '"3"'}, "3")
    assert not_modified({"if-none-match": 'W/"3"'}, "3")
    assert not_modified({"if-none-match": '"1", "3"'}, "3")
    assert not_modified({"if-none-match": "*"}, "3")
    assert not not_modified({"if-none-match": '"4"'}, "3")
    assert not not_modified({"if-none-match": '"3"'}, "")
    assert not not_modified({"if-none-match": "3"}, "3")  # malformed: ignored
    assert not not_modified({}, "3")


def test_etag_headers_are_quoted_and_only_for_valid_tags() -> None:
    assert header_value("17") == '"17"'
    assert header_value("") is None
    assert header_value('a"b') is None
    assert header_value("a b") is None


@pytest.mark.parametrize(
    ("name", "disposition"),
    [
        ("Lisbon Spring.ics", 'attachment; filename="Lisbon Spring.ics"'),
        (
            "Belém / Porto.ics",
            'attachment; filename="Belem _ Porto.ics"; '
            "filename*=UTF-8''Bel%C3%A9m%20_%20Porto.ics",
        ),
        (
            '../../etc/"passwd".json',
            'attachment; filename="_.._etc_passwd_.json"',
        ),
        (
            "東京.json",
            "attachment; filename=\"download.json\"; filename*=UTF-8''%E6%9D%B1%E4%BA%AC.json",
        ),
        ("", 'attachment; filename="download"'),
    ],
)
def test_content_disposition_is_safe_with_the_exact_name_as_filename_star(
    name: str, disposition: str
) -> None:
    assert content_disposition(name) == disposition


def test_file_names_lose_paths_and_controls_and_stay_short() -> None:
    assert safe_filename("a\r\nb\x00c.ics") == "a_b_c.ics"
    assert safe_filename(".hidden") == "hidden"
    long = safe_filename("x" * 500 + ".ics")
    assert len(long) <= 120
    assert long.endswith(".ics")
    # filename* always decodes back to the safe name.
    value = content_disposition("Zürich ✈ 2027.json")
    assert unquote(value.split("UTF-8''", 1)[1]) == safe_filename("Zürich ✈ 2027.json")
