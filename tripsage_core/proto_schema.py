"""JSON Schema of a protobuf message, as its JSON mapping reads: lowerCamelCase names,
enums by name, 64-bit integers and well-known types as the JSON mapping writes them,
described by the contract's own comments (tripsage_core.proto_docs).

The assistant's tools take their parameters from this, so a tool's schema is the RPC's
request message and never written twice.
"""

from __future__ import annotations

from typing import Any

from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor

from tripsage_core.proto_docs import comment

MAX_DEPTH = 4

_SCALARS: dict[int, dict[str, Any]] = {
    FieldDescriptor.TYPE_DOUBLE: {"type": "number"},
    FieldDescriptor.TYPE_FLOAT: {"type": "number"},
    FieldDescriptor.TYPE_INT32: {"type": "integer"},
    FieldDescriptor.TYPE_SINT32: {"type": "integer"},
    FieldDescriptor.TYPE_SFIXED32: {"type": "integer"},
    FieldDescriptor.TYPE_UINT32: {"type": "integer", "minimum": 0},
    FieldDescriptor.TYPE_FIXED32: {"type": "integer", "minimum": 0},
    # The JSON mapping writes 64-bit integers as strings; both forms parse.
    FieldDescriptor.TYPE_INT64: {"type": ["integer", "string"]},
    FieldDescriptor.TYPE_SINT64: {"type": ["integer", "string"]},
    FieldDescriptor.TYPE_SFIXED64: {"type": ["integer", "string"]},
    FieldDescriptor.TYPE_UINT64: {"type": ["integer", "string"]},
    FieldDescriptor.TYPE_FIXED64: {"type": ["integer", "string"]},
    FieldDescriptor.TYPE_BOOL: {"type": "boolean"},
    FieldDescriptor.TYPE_STRING: {"type": "string"},
    FieldDescriptor.TYPE_BYTES: {"type": "string", "contentEncoding": "base64"},
}
_WELL_KNOWN: dict[str, dict[str, Any]] = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    "google.protobuf.Duration": {"type": "string", "description": 'seconds, e.g. "3.5s"'},
    "google.protobuf.FieldMask": {"type": "string", "description": "comma-separated paths"},
    "google.protobuf.Struct": {"type": "object"},
    "google.protobuf.Value": {},
    "google.protobuf.ListValue": {"type": "array"},
    "google.type.Money": {
        "type": "object",
        "description": "an amount of money",
        "properties": {
            "currencyCode": {"type": "string", "description": "ISO 4217 code, e.g. EUR"},
            "units": {"type": ["integer", "string"], "description": "whole units"},
            "nanos": {"type": "integer", "description": "billionths of a unit"},
        },
    },
    "google.type.LatLng": {
        "type": "object",
        "description": "a point on the earth",
        "properties": {"latitude": {"type": "number"}, "longitude": {"type": "number"}},
    },
}


def message_schema(
    descriptor: Descriptor, *, omit: frozenset[str] = frozenset(), depth: int = 0
) -> dict[str, Any]:
    """An object schema of the message's fields (those named in `omit` left out)."""
    if descriptor.full_name in _WELL_KNOWN:
        return dict(_WELL_KNOWN[descriptor.full_name])
    schema: dict[str, Any] = {"type": "object", "properties": {}}
    text = comment(descriptor.full_name)
    if text:
        schema["description"] = text
    if depth >= MAX_DEPTH:
        return schema
    for field in descriptor.fields:
        if field.name in omit or _output_only(field):
            continue
        schema["properties"][field.json_name] = field_schema(field, depth)
    return schema


def field_schema(field: FieldDescriptor, depth: int = 0) -> dict[str, Any]:
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        value = field.message_type.fields_by_name["value"]
        one: dict[str, Any] = {"type": "object", "additionalProperties": _single(value, depth)}
    else:
        one = _single(field, depth)
        if field.is_repeated:
            one = {"type": "array", "items": one}
    text = comment(field.full_name)
    if text:
        one = {**one, "description": text}
    return one


def _single(field: FieldDescriptor, depth: int) -> dict[str, Any]:
    if field.message_type is not None:
        return message_schema(field.message_type, depth=depth + 1)
    if field.enum_type is not None:
        return _enum_schema(field.enum_type)
    return dict(_SCALARS[field.type])


def _enum_schema(descriptor: EnumDescriptor) -> dict[str, Any]:
    names = [v.name for v in descriptor.values if not v.name.endswith("_UNSPECIFIED")]
    return {"type": "string", "enum": names}


def _output_only(field: FieldDescriptor) -> bool:
    # The contract marks what the server sets with "Output only." in the comment.
    return comment(field.full_name).startswith("Output only")
