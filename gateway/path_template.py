"""Parsing and matching of google.api.http path templates.

Grammar (from google/api/http.proto):

    Template = "/" Segments [ Verb ] ;
    Segments = Segment { "/" Segment } ;
    Segment  = "*" | "**" | LITERAL | Variable ;
    Variable = "{" FieldPath [ "=" Segments ] "}" ;
    FieldPath = IDENT { "." IDENT } ;
    Verb     = ":" LITERAL ;

A template is flattened into a list of segment matchers; each variable
remembers which slice of that list it binds. ``{field}`` is ``{field=*}``.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from urllib.parse import unquote

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class TemplateError(ValueError):
    """A path template that does not follow the google.api.http grammar."""


class SegmentKind(enum.IntEnum):
    """What a flattened segment matches; the value orders specificity."""

    MULTI = 0  # "**": zero or more segments (only allowed last)
    SINGLE = 1  # "*": exactly one segment
    LITERAL = 2  # that exact text


@dataclass(frozen=True, slots=True)
class Segment:
    kind: SegmentKind
    literal: str = ""


@dataclass(frozen=True, slots=True)
class Variable:
    """A ``{field.path=...}`` binding over ``segments[start:end]``."""

    field_path: tuple[str, ...]
    start: int
    end: int

    @property
    def dotted(self) -> str:
        return ".".join(self.field_path)

    @property
    def openapi_name(self) -> str:
        """``trip.id`` -> ``trip_id``: OpenAPI tools format paths with str.format."""
        return "_".join(self.field_path)


@dataclass(frozen=True, slots=True)
class PathTemplate:
    source: str
    segments: tuple[Segment, ...]
    variables: tuple[Variable, ...]
    verb: str | None

    @property
    def specificity(self) -> tuple[int, ...]:
        """Sort key: higher means more specific (literals beat variables)."""
        kinds = tuple(int(segment.kind) for segment in self.segments)
        fixed_length = 0 if any(s.kind is SegmentKind.MULTI for s in self.segments) else 1
        return (1 if self.verb else 0, fixed_length, *kinds)

    def match(self, path: str) -> dict[str, str] | None:
        """Match a raw (still percent-encoded) URL path.

        Returns the variable bindings (dotted field path -> decoded value) or
        None when the path does not match this template.
        """
        if not path.startswith("/"):
            return None
        body = path[1:]
        if self.verb is not None:
            suffix = ":" + self.verb
            if not body.endswith(suffix):
                return None
            body = body[: -len(suffix)]
        raw_parts = body.split("/") if body else []
        matched = _match_segments(self.segments, raw_parts)
        if matched is None:
            return None
        bindings: dict[str, str] = {}
        for variable in self.variables:
            start, end = matched[variable.start], matched[variable.end]
            parts = raw_parts[start:end]
            if not parts or any(part == "" for part in parts):
                return None
            single = variable.end - variable.start == 1 and (
                self.segments[variable.start].kind is SegmentKind.SINGLE
            )
            if single:
                bindings[variable.dotted] = unquote(parts[0])
            else:
                # Multi-segment values keep "/" separators; an escaped "%2F"
                # inside a segment stays escaped (as the HttpRule spec says).
                bindings[variable.dotted] = "/".join(
                    unquote(part.replace("%2F", "%252F").replace("%2f", "%252f")) for part in parts
                )
        return bindings

    def openapi_path(self) -> str:
        """The template as an OpenAPI path (``{field_path}`` per variable)."""
        out: list[str] = []
        index = 0
        by_start = {variable.start: variable for variable in self.variables}
        while index < len(self.segments):
            variable = by_start.get(index)
            if variable is not None:
                out.append("{" + variable.openapi_name + "}")
                index = variable.end
                continue
            segment = self.segments[index]
            out.append(segment.literal if segment.kind is SegmentKind.LITERAL else "*")
            index += 1
        path = "/" + "/".join(out)
        return path + (":" + self.verb if self.verb else "")


def _match_segments(segments: tuple[Segment, ...], parts: list[str]) -> list[int] | None:
    """Map each template segment index (and the end) to a request part index.

    Returns a list ``positions`` of len(segments)+1 where template segment i
    covers ``parts[positions[i]:positions[i+1]]``; None when not matching.
    """
    positions: list[int] = []
    cursor = 0
    for index, segment in enumerate(segments):
        positions.append(cursor)
        if segment.kind is SegmentKind.MULTI:
            remaining_fixed = len(segments) - index - 1
            take = len(parts) - cursor - remaining_fixed
            if take < 0:
                return None
            cursor += take
            continue
        if cursor >= len(parts):
            return None
        part = parts[cursor]
        if segment.kind is SegmentKind.LITERAL:
            if unquote(part) != segment.literal:
                return None
        elif part == "":
            return None
        cursor += 1
    if cursor != len(parts):
        return None
    positions.append(cursor)
    return positions


def parse_template(template: str) -> PathTemplate:
    """Parse a google.api.http path template into a matcher."""
    if not template.startswith("/"):
        raise TemplateError(f"path template must start with '/': {template!r}")
    text = template[1:]
    verb: str | None = None
    # The verb is a ':' after the last '/' that is outside any braces.
    depth = 0
    colon_at = -1
    for index, char in enumerate(text):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == "/" and depth == 0:
            colon_at = -1
        elif char == ":" and depth == 0:
            colon_at = index
    if colon_at >= 0:
        verb = text[colon_at + 1 :]
        text = text[:colon_at]
        if not verb or "/" in verb:
            raise TemplateError(f"bad custom verb in {template!r}")

    segments: list[Segment] = []
    variables: list[Variable] = []
    for token in _split_top_level(text, template):
        if token.startswith("{"):
            if not token.endswith("}"):
                raise TemplateError(f"unterminated variable in {template!r}")
            inner = token[1:-1]
            field, _, pattern = inner.partition("=")
            field_path = tuple(field.split("."))
            if not all(_IDENT.match(name) for name in field_path):
                raise TemplateError(f"bad field path {field!r} in {template!r}")
            start = len(segments)
            for sub in (pattern or "*").split("/"):
                segments.append(_plain_segment(sub, template))
            variables.append(Variable(field_path=field_path, start=start, end=len(segments)))
        else:
            segments.append(_plain_segment(token, template))

    multi = [i for i, s in enumerate(segments) if s.kind is SegmentKind.MULTI]
    if multi and multi != [len(segments) - 1]:
        raise TemplateError(f"'**' must be the last segment in {template!r}")
    return PathTemplate(
        source=template, segments=tuple(segments), variables=tuple(variables), verb=verb
    )


def _split_top_level(text: str, template: str) -> list[str]:
    tokens: list[str] = []
    depth = 0
    current: list[str] = []
    for char in text:
        if char == "{":
            if depth:
                raise TemplateError(f"nested variable in {template!r}")
            depth = 1
        elif char == "}":
            if not depth:
                raise TemplateError(f"unbalanced '}}' in {template!r}")
            depth = 0
        if char == "/" and depth == 0:
            tokens.append("".join(current))
            current = []
            continue
        current.append(char)
    if depth:
        raise TemplateError(f"unterminated variable in {template!r}")
    tokens.append("".join(current))
    if any(token == "" for token in tokens):
        raise TemplateError(f"empty segment in {template!r}")
    return tokens


def _plain_segment(token: str, template: str) -> Segment:
    if token == "*":
        return Segment(SegmentKind.SINGLE)
    if token == "**":
        return Segment(SegmentKind.MULTI)
    if not token or any(char in token for char in "{}*=:"):
        raise TemplateError(f"bad segment {token!r} in {template!r}")
    return Segment(SegmentKind.LITERAL, token)
