"""Conditional requests (RFC 9110 section 13) over the resources' own etags.

The services version every resource with an ``etag`` field and refuse a stale one
with ABORTED. Here that becomes real HTTP:

- a reply whose resource has an etag carries it as the ``ETag`` header too;
- ``If-Match`` on a write whose request has an etag field fills that field when the
  body left it empty, and a stale one is 412 Precondition Failed (a stale etag from
  the body stays 409, as the status table says);
- ``If-None-Match`` on a GET is 304 Not Modified, without a body, when it names the
  reply's etag (weak comparison) or is ``*``.

Our etags are strong validators: a weak one in ``If-Match`` never matches.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import grpc
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from gateway.errors import GatewayError, invalid_argument
from gateway.routes import HttpBinding

ETAG_FIELD = "etag"
IF_MATCH = "if-match"
IF_NONE_MATCH = "if-none-match"
# entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE, etagc = %x21 / %x23-7E / obs-text
_ENTITY_TAG = re.compile(r'\s*(W/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*(?:,|$)')
_ETAGC = re.compile(r"^[\x21\x23-\x7e]*$")


@dataclass(frozen=True, slots=True)
class EntityTag:
    opaque: str
    weak: bool = False


def parse_entity_tags(header: str) -> list[EntityTag] | None:
    """The tags of an If-Match / If-None-Match value; [] for ``*``, None if malformed."""
    text = header.strip()
    if text == "*":
        return []
    tags: list[EntityTag] = []
    position = 0
    while position < len(text):
        match = _ENTITY_TAG.match(text, position)
        if match is None:
            return None
        tags.append(EntityTag(match.group(2), weak=match.group(1) is not None))
        position = match.end()
    return tags or None


def header_value(etag: str) -> str | None:
    """The ETag header for a resource's etag (strong), or None if it cannot be one."""
    if not etag or _ETAGC.match(etag) is None:
        return None
    return f'"{etag}"'


def _etag_field(descriptor: Any) -> FieldDescriptor | None:
    field: FieldDescriptor | None = descriptor.fields_by_name.get(ETAG_FIELD)
    if field is not None and field.type == FieldDescriptor.TYPE_STRING and not field.is_repeated:
        return field
    return None


def reply_etag(binding: HttpBinding, reply: Message) -> str:
    """The etag of the resource a reply returns: the reply's own ``etag`` field, or that
    of the one message field it carries (``{"trip": {...}}``); "" if none."""
    path = reply_etag_path(binding)
    if path is None:
        return ""
    message = reply
    for name in path[:-1]:
        if not message.HasField(name):
            return ""
        message = getattr(message, name)
    return str(getattr(message, path[-1]))


def reply_etag_path(binding: HttpBinding) -> tuple[str, ...] | None:
    """Where a binding's reply carries its resource's etag; None if it has none."""
    return _etag_path(binding.method.output_type, binding.response_body)


@cache
def _etag_path(descriptor: Any, response_body: str) -> tuple[str, ...] | None:
    """reply_etag_path, found once per reply type."""
    prefix: tuple[str, ...] = ()
    if response_body:
        field = descriptor.fields_by_name[response_body]
        if field.message_type is None or field.is_repeated:
            return None
        descriptor, prefix = field.message_type, (field.name,)
    if _etag_field(descriptor) is not None:
        return (*prefix, ETAG_FIELD)
    resources = [
        field
        for field in descriptor.fields
        if field.message_type is not None
        and not field.is_repeated
        and _etag_field(field.message_type) is not None
    ]
    if len(resources) != 1:
        return None
    return (*prefix, resources[0].name, ETAG_FIELD)


def request_etag_path(binding: HttpBinding) -> tuple[str, ...] | None:
    """Where a write's request carries the etag it checks: a top-level ``etag``, or the
    ``etag`` of the resource named as the body (``body: "trip"``); None if nowhere."""
    if binding.http_method == "GET":
        return None
    descriptor = binding.method.input_type
    if _etag_field(descriptor) is not None:
        return (ETAG_FIELD,)
    if binding.body and binding.body != "*":
        field = descriptor.fields_by_name[binding.body]
        if field.message_type is not None and _etag_field(field.message_type) is not None:
            return (binding.body, ETAG_FIELD)
    return None


def apply_if_match(binding: HttpBinding, request: Message, headers: Mapping[str, str]) -> bool:
    """Fill the request's etag from ``If-Match`` when the body carries none.

    True when the etag the call checks came from the header (so ABORTED is a 412).
    """
    raw = headers.get(IF_MATCH)
    if raw is None:
        return False
    path = request_etag_path(binding)
    if path is None:
        return False  # nothing to check it against: ignored, like any unknown header
    tags = parse_entity_tags(raw)
    if tags is None:
        raise invalid_argument(
            "If-Match must be * or a list of quoted entity tags",
            [("If-Match", "not an entity tag")],
        )
    holder = request
    for name in path[:-1]:
        holder = getattr(holder, name)
    if getattr(holder, path[-1]):
        return False  # the body's own etag wins; a stale one stays a 409
    if not tags:
        return False  # "*": any current version
    strong = [tag for tag in tags if not tag.weak]
    if not strong:
        raise precondition_failed("If-Match names only weak entity tags")
    if len(strong) > 1:
        raise invalid_argument(
            "If-Match may name one entity tag here",
            [("If-Match", "more than one entity tag")],
        )
    setattr(holder, path[-1], strong[0].opaque)
    return True


def precondition_failed(message: str) -> GatewayError:
    return GatewayError(grpc.StatusCode.FAILED_PRECONDITION, message, http_status=412)


def not_modified(headers: Mapping[str, str], etag: str) -> bool:
    """Whether ``If-None-Match`` names this etag (weak comparison) or is ``*``; only
    for a resource that has an etag."""
    raw = headers.get(IF_NONE_MATCH)
    if raw is None or not etag:
        return False
    tags = parse_entity_tags(raw)
    if tags is None:
        return False  # a malformed condition is ignored (RFC 9110 13.1.2 allows it)
    return not tags or any(tag.opaque == etag for tag in tags)
