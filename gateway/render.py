"""Proto message -> JSON object, per message type, built once and equal to json_format.

``json_format.MessageToDict`` rediscovers each field's kind by reflection on
every value of every reply; on the gateway's hot path that was the largest
single cost. Here each message type gets a renderer the first time it is seen:
a table from field to converter, and the defaults json_format adds for fields
without presence (``always_print_fields_with_no_presence=True``), in the same
order json_format puts them: the set fields by number, then the unset ones in
declaration order.

What json_format does specially and rarely (Any, extensions) is handed to
json_format itself, and any surprise while rendering
(a closed enum holding an unknown number, a NaN inside a Value, ...) re-renders
the whole message with json_format, so results and errors are json_format's.
tests/unit/gateway/test_gateway_render.py compares the two over every reply
type of every service.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Callable
from typing import Any

import orjson
from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.internal import type_checkers
from google.protobuf.message import Message

Converter = Callable[[Any], Any]
Renderer = Callable[[Message], Any]

_F = FieldDescriptor
_INT64 = frozenset({_F.CPPTYPE_INT64, _F.CPPTYPE_UINT64})
_FLOATS = frozenset({_F.CPPTYPE_FLOAT, _F.CPPTYPE_DOUBLE})
# Rendered by their own ToJsonString (exactly what json_format calls).
_AS_STRING = frozenset(
    {"google.protobuf.Timestamp", "google.protobuf.Duration", "google.protobuf.FieldMask"}
)
# Left to json_format whole.
_DELEGATED = frozenset({"google.protobuf.Any"})
_WRAPPERS_FILE = "google/protobuf/wrappers.proto"

# Keyed by the descriptor itself, not its name: two pools may both define a name.
_renderers: dict[Any, Renderer] = {}


def message_to_json(message: Message) -> Any:
    """What ``json_format.MessageToDict(message, always_print_fields_with_no_presence=True)``
    returns, rendered by the message type's own renderer."""
    try:
        return renderer_for(message.DESCRIPTOR)(message)
    except Exception:  # an odd value: json_format decides (and raises) as it would
        return _reference(message)


class JsonFloat(float):
    """A rendered float. The json module writes it as any float (``float.__repr__``);
    orjson, which spells some floats differently (0.00001 for 1e-05), hands it to
    json_bytes, which writes that same repr. Every float of a rendered reply is one
    (json_format's own output included)."""

    __slots__ = ()


def json_bytes(rendered: Any) -> bytes:
    """A document ``message_to_json`` rendered, as UTF-8 JSON: exactly what
    ``json.dumps(rendered, ensure_ascii=False, separators=(",", ":")).encode()`` gives,
    by orjson (several times faster). What orjson refuses (an integer past 64 bits, a
    lone surrogate) is left to the json module, which then decides as before. Rendered
    replies hold no NaN or infinity (json_format spells those as strings)."""
    try:
        return orjson.dumps(rendered, default=_float_repr)
    except TypeError:  # orjson.JSONEncodeError
        return json.dumps(rendered, ensure_ascii=False, separators=(",", ":")).encode()


def _float_repr(value: Any) -> Any:
    if type(value) is JsonFloat:
        return orjson.Fragment(float.__repr__(value))
    raise TypeError(f"not rendered JSON: {type(value).__name__}")


def renderer_for(descriptor: Any) -> Renderer:
    found = _renderers.get(descriptor)
    if found is None:
        found = _build(descriptor)
        _renderers[descriptor] = found
    return found


def _reference(message: Message) -> Any:
    return _marked(json_format.MessageToDict(message, always_print_fields_with_no_presence=True))


def _marked(value: Any) -> Any:
    """json_format's output with its floats as JsonFloat."""
    if type(value) is float:
        return JsonFloat(value)
    if isinstance(value, dict):
        return {key: _marked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_marked(item) for item in value]
    return value


def _build(descriptor: Descriptor) -> Renderer:
    name = descriptor.full_name
    if name in _DELEGATED:
        return _reference
    if name in _AS_STRING:
        return _to_json_string
    dynamic = _DYNAMIC.get(name)
    if dynamic is not None:
        return dynamic
    if descriptor.file.name == _WRAPPERS_FILE:
        inner = _scalar(descriptor.fields_by_name["value"])
        return lambda message: inner(message.value)  # type: ignore[attr-defined]
    return _regular(descriptor)


def _to_json_string(message: Message) -> Any:
    return message.ToJsonString()  # type: ignore[attr-defined]


def _value(message: Any) -> Any:
    """google.protobuf.Value as json_format renders it; NaN and infinities raise, so
    message_to_json lets json_format refuse them with its own error."""
    which = message.WhichOneof("kind")
    if which is None or which == "null_value":
        return None
    if which == "list_value":
        return [_value(item) for item in message.list_value.values]
    if which == "struct_value":
        return _struct(message.struct_value)
    if which == "number_value":
        number = message.number_value
        if math.isinf(number) or math.isnan(number):
            raise ValueError("a Value cannot hold NaN or Infinity in JSON")
        return JsonFloat(number)
    if which == "string_value":
        return str(message.string_value)
    return bool(message.bool_value)


def _struct(message: Any) -> dict[str, Any]:
    fields = message.fields
    return {key: _value(fields[key]) for key in fields}


def _list_value(message: Any) -> list[Any]:
    return [_value(item) for item in message.values]


_DYNAMIC: dict[str, Renderer] = {
    "google.protobuf.Value": _value,
    "google.protobuf.Struct": _struct,
    "google.protobuf.ListValue": _list_value,
}


def _regular(descriptor: Descriptor) -> Renderer:
    # Keyed by the field descriptor itself: ListFields() hands back the descriptor's
    # own field objects, so an extension (not in the table) is a KeyError -> json_format.
    converters: dict[FieldDescriptor, tuple[str, Converter]] = {}
    defaults: list[tuple[str, Callable[[], Any]]] = []
    for field in descriptor.fields:
        converters[field] = (field.json_name, _field_converter(field))
        if not field.has_presence:
            defaults.append((field.json_name, _default(field)))

    def render(message: Message) -> dict[str, Any]:
        js: dict[str, Any] = {}
        for field, value in message.ListFields():
            json_name, convert = converters[field]
            js[json_name] = convert(value)
        for json_name, make in defaults:
            if json_name not in js:
                js[json_name] = make()
        return js

    return render


def _field_converter(field: FieldDescriptor) -> Converter:
    message_type = field.message_type
    if message_type is not None and message_type.GetOptions().map_entry:
        key_field = message_type.fields_by_name["key"]
        value = _single(message_type.fields_by_name["value"])
        bool_keys = key_field.cpp_type == _F.CPPTYPE_BOOL

        def convert_map(mapping: Any) -> dict[str, Any]:
            if bool_keys:
                return {("true" if key else "false"): value(mapping[key]) for key in mapping}
            return {str(key): value(mapping[key]) for key in mapping}

        return convert_map
    single = _single(field)
    if field.is_repeated:
        return lambda values: [single(item) for item in values]
    return single


def _single(field: FieldDescriptor) -> Converter:
    if field.cpp_type == _F.CPPTYPE_MESSAGE:
        sub = field.message_type
        cell: list[Renderer] = []  # resolved on first use: types may be recursive

        def convert_message(message: Message) -> Any:
            if not cell:
                cell.append(renderer_for(sub))
            return cell[0](message)

        return convert_message
    return _scalar(field)


def _scalar(field: FieldDescriptor) -> Converter:
    cpp = field.cpp_type
    if cpp == _F.CPPTYPE_ENUM:
        return _enum(field)
    if cpp == _F.CPPTYPE_STRING:
        if field.type == _F.TYPE_BYTES:
            return lambda value: base64.b64encode(value).decode("utf-8")
        return str
    if cpp == _F.CPPTYPE_BOOL:
        return bool
    if cpp in _INT64:
        return str
    if cpp in _FLOATS:
        return _float32 if cpp == _F.CPPTYPE_FLOAT else _float64
    return _same


def _same(value: Any) -> Any:
    return value


def _float64(value: float) -> Any:
    if math.isinf(value):
        return "-Infinity" if value < 0.0 else "Infinity"
    if math.isnan(value):
        return "NaN"
    return JsonFloat(value)


def _float32(value: float) -> Any:
    if math.isinf(value) or math.isnan(value):
        return _float64(value)
    return JsonFloat(type_checkers.ToShortestFloat(value))


def _enum(field: FieldDescriptor) -> Converter:
    enum = field.enum_type
    if enum is None:
        raise TypeError(f"{field.full_name} is not an enum field")
    if enum.full_name == "google.protobuf.NullValue":
        return lambda value: None
    names = {number: value.name for number, value in enum.values_by_number.items()}
    if any(value.GetOptions().ListFields() for value in enum.values):
        return _json_formats  # values with options (a JSON name, say): json_format's
    closed = enum.is_closed

    def convert_enum(number: int) -> Any:
        name = names.get(number)
        if name is not None:
            return name
        if closed:
            raise ValueError("unknown number in a closed enum")  # json_format raises
        return number

    return convert_enum


def _json_formats(value: Any) -> Any:
    raise LookupError("rendered by json_format")  # message_to_json falls back to it


def _default(field: FieldDescriptor) -> Callable[[], Any]:
    message_type = field.message_type
    if message_type is not None and message_type.GetOptions().map_entry:
        return dict
    if field.is_repeated:
        return list
    rendered = _scalar(field)(field.default_value)  # immutable: str, int, float, bool
    return lambda: rendered
