"""HTTP request (path, query, JSON body) <-> proto messages.

JSON is the proto3 canonical mapping (google.protobuf.json_format): both
lowerCamelCase and snake_case names are accepted in, unknown fields are
rejected, and responses come out in lowerCamelCase with default values
included so clients see ``false`` / ``0`` / ``[]``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from google.protobuf import json_format, message_factory
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.message import Message

from gateway import render
from gateway.errors import invalid_argument
from gateway.routes import HttpBinding

# Well-known message types whose JSON form is a single string.
_STRING_WELL_KNOWN = frozenset(
    {
        "google.protobuf.Timestamp",
        "google.protobuf.Duration",
        "google.protobuf.FieldMask",
        "google.protobuf.StringValue",
        "google.protobuf.BytesValue",
        "google.protobuf.Int32Value",
        "google.protobuf.Int64Value",
        "google.protobuf.UInt32Value",
        "google.protobuf.UInt64Value",
        "google.protobuf.FloatValue",
        "google.protobuf.DoubleValue",
    }
)
_BOOL_WELL_KNOWN = "google.protobuf.BoolValue"
_TRUE = frozenset({"true", "1", "t", "yes"})
_FALSE = frozenset({"false", "0", "f", "no"})

_UNKNOWN_FIELD = re.compile(r'has no field named "(?P<name>[^"]+)" at "(?P<path>[^"]*)"')
_AT_PATH = re.compile(r" at (?P<path>[A-Za-z_][\w.\[\]]*)\.?$")
_FAILED_FIELD = re.compile(r"^Failed to parse (?P<name>\S+) field: ")
_LONG_DIGITS = re.compile(rb"\d{19}")


def message_class(descriptor: Descriptor) -> type[Message]:
    cls: type[Message] = message_factory.GetMessageClass(descriptor)
    return cls


def build_request(
    binding: HttpBinding,
    path_params: Mapping[str, str],
    query: Sequence[tuple[str, str]],
    body: bytes,
) -> Message:
    """The gRPC request message for one HTTP request.

    Path variables win over the body, as in grpc-gateway. Query parameters
    fill the fields neither the path nor the body carries.
    """
    descriptor = binding.method.input_type
    request = message_class(descriptor)()
    if binding.body:
        _merge_body(binding, request, body)
    violations: list[tuple[str, str]] = []
    for dotted, value in path_params.items():
        _merge_text_field(request, descriptor, dotted, [value], dotted, violations)
    if binding.body != "*":
        _merge_query(binding, request, path_params, query, violations)
    if violations:
        names = ", ".join(name for name, _ in violations)
        raise invalid_argument(f"invalid value for {names}", violations)
    return request


def response_to_json(binding: HttpBinding, response: Message) -> Any:
    rendered = message_to_json(response)
    if binding.response_body:
        field = response.DESCRIPTOR.fields_by_name[binding.response_body]
        return rendered.get(field.json_name)
    return rendered


def message_to_json(message: Message) -> dict[str, Any]:
    """json_format's JSON object for a reply, by a renderer built once per message type."""
    rendered: dict[str, Any] = render.message_to_json(message)
    return rendered


def parse_json_body(body: bytes) -> Any:
    """Decode a JSON body; an empty body is ``{}``."""
    if not body.strip():
        return {}
    # orjson where it reads exactly as the json module does: it turns integers past
    # 64 bits into floats (any 19-digit run may be one) and refuses NaN, Infinity,
    # lone surrogates and non-UTF-8, which the json module then decides as before.
    if _LONG_DIGITS.search(body) is None:
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            pass
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as error:
        raise invalid_argument(
            f"request body is not valid JSON: {error}",
            [("", f"invalid JSON: {error}")],
            reason="MALFORMED_JSON",
        ) from error


def json_type(value: Any) -> str:
    """The JSON name of a decoded value's type, for errors."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


def _merge_body(binding: HttpBinding, request: Message, body: bytes) -> None:
    payload = parse_json_body(body)
    if binding.body == "*":
        if not isinstance(payload, dict):
            raise invalid_argument(
                "request body must be a JSON object",
                [("", f"expected a JSON object, got {json_type(payload)}")],
            )
        document: dict[str, Any] = payload
    else:
        field = binding.method.input_type.fields_by_name[binding.body]
        resource = field.message_type
        # The body is the resource itself: errors name its fields as the client wrote
        # them ("title"), not under the request's field ("trip.title").
        if (
            resource is not None
            and not field.is_repeated
            and resource.full_name not in _STRING_WELL_KNOWN | {_BOOL_WELL_KNOWN}
            and resource.full_name.startswith("tripsage.")
        ):
            if not isinstance(payload, dict):
                raise invalid_argument(
                    "request body must be a JSON object",
                    [("", f"expected a JSON object, got {json_type(payload)}")],
                )
            target = getattr(request, field.name)
            target.SetInParent()  # present, as {"trip": {}} would make it
            _parse_into(payload, target, resource)
            return
        document = {binding.body: payload}
    _parse_into(document, request, binding.method.input_type)


def _parse_into(document: dict[str, Any], request: Message, descriptor: Descriptor) -> None:
    conflict = find_conflict(document, descriptor, "")
    if conflict is not None:
        field, description = conflict
        raise invalid_argument(f"invalid value for {field}: {description}", [conflict])
    try:
        json_format.ParseDict(document, request, ignore_unknown_fields=False)
    except json_format.ParseError as error:
        field, description = locate_parse_error(document, descriptor, "", error)
        raise invalid_argument(
            f"invalid value for {field}: {description}" if field else description,
            [(field, description)],
        ) from error
    except Exception as error:  # never a 500 for bad input
        raise invalid_argument(str(error) or "invalid request", [("", str(error))]) from error


def locate_parse_error(
    document: Any, descriptor: Descriptor, prefix: str, error: json_format.ParseError
) -> tuple[str, str]:
    """(field path as the client spelled it, description) for a failed parse.

    json_format's messages nest and lose list indexes, so the failing field is
    found again by parsing one key at a time, descending into messages.
    """
    if not isinstance(document, dict):
        return prefix, clean_parse_error(error)
    cls = message_class(descriptor)
    for key, value in document.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        field = _field_by_any_name(descriptor, str(key))
        if field is None:
            return path, f'unknown field "{key}"'
        try:
            json_format.ParseDict({key: value}, cls())
        except json_format.ParseError as field_error:
            sub = field.message_type
            is_map = sub is not None and sub.GetOptions().map_entry
            if field.is_repeated and not isinstance(value, dict if is_map else list):
                return path, "expected a JSON object" if is_map else "expected a list"
            if (
                sub is None
                or sub.GetOptions().map_entry
                or sub.full_name.startswith("google.protobuf.")
            ):
                return path, expected_value(field, field_error)
            items = value if field.is_repeated and isinstance(value, list) else [value]
            for index, item in enumerate(items):
                item_path = f"{path}[{index}]" if field.is_repeated else path
                if not isinstance(item, dict):
                    return item_path, "expected a JSON object"
                try:
                    json_format.ParseDict(item, message_class(sub)())
                except json_format.ParseError as item_error:
                    return locate_parse_error(item, sub, item_path, item_error)
                except Exception:
                    break
            return path, clean_parse_error(field_error)
        except Exception as field_error:
            return path, str(field_error)
    conflict = _field_conflict(document, descriptor, prefix)
    if conflict is not None:
        return conflict
    return prefix, clean_parse_error(error)


def find_conflict(document: Any, descriptor: Descriptor, prefix: str) -> tuple[str, str] | None:
    """The first pair of keys that json_format would silently let overwrite each other
    (``startDate`` and ``start_date``; two members of a oneof), at any depth."""
    if not isinstance(document, dict):
        return None
    found = _field_conflict(document, descriptor, prefix)
    if found is not None:
        return found
    for key, value in document.items():
        field = _field_by_any_name(descriptor, str(key))
        sub = field.message_type if field is not None else None
        if sub is None or sub.GetOptions().map_entry or sub.full_name.startswith("google."):
            continue
        path = f"{prefix}.{key}" if prefix else str(key)
        items = value if isinstance(value, list) else [value]
        for index, item in enumerate(items):
            item_path = f"{path}[{index}]" if isinstance(value, list) else path
            found = find_conflict(item, sub, item_path)
            if found is not None:
                return found
    return None


def _field_conflict(
    document: dict[str, Any], descriptor: Descriptor, prefix: str
) -> tuple[str, str] | None:
    """Keys that are fine alone but not together: two spellings, or one oneof twice."""
    seen: dict[str, str] = {}
    oneof_seen: dict[str, str] = {}
    for key, value in document.items():
        field = _field_by_any_name(descriptor, str(key))
        if field is None:
            continue
        path = f"{prefix}.{key}" if prefix else str(key)
        if field.name in seen:
            return path, f'"{seen[field.name]}" and "{key}" name the same field'
        seen[field.name] = str(key)
        oneof = field.containing_oneof
        if oneof is None or value is None or len(oneof.fields) < 2:
            continue
        if oneof.name in oneof_seen:
            names = ", ".join(member.json_name for member in oneof.fields)
            return path, f"only one of {names} may be set (got {oneof_seen[oneof.name]} too)"
        oneof_seen[oneof.name] = str(key)
    return None


_WELL_KNOWN_EXPECTED = {
    "google.protobuf.Timestamp": "an RFC 3339 timestamp such as 2027-05-01T10:00:00Z",
    "google.protobuf.Duration": 'a duration such as "1.5s"',
    "google.protobuf.FieldMask": "a comma-separated list of field names",
}
_INT_BITS = {
    FieldDescriptor.CPPTYPE_INT32: "a 32-bit integer",
    FieldDescriptor.CPPTYPE_UINT32: "a non-negative 32-bit integer",
    FieldDescriptor.CPPTYPE_INT64: "a 64-bit integer (a number or a decimal string)",
    FieldDescriptor.CPPTYPE_UINT64: "a non-negative 64-bit integer (a number or a decimal string)",
}


def expected_value(field: FieldDescriptor, error: json_format.ParseError) -> str:
    """What a field accepts, for an error a client can act on."""
    detail = clean_parse_error(error)
    what: str | None = None
    if field.message_type is not None:
        what = _WELL_KNOWN_EXPECTED.get(field.message_type.full_name)
    elif field.enum_type is not None:
        names = ", ".join(value.name for value in field.enum_type.values)
        what = f"one of {names}"
    elif field.cpp_type in _INT_BITS:
        what = _INT_BITS[field.cpp_type]
    elif field.cpp_type in (FieldDescriptor.CPPTYPE_DOUBLE, FieldDescriptor.CPPTYPE_FLOAT):
        what = "a number"
    elif field.cpp_type == FieldDescriptor.CPPTYPE_BOOL:
        what = "true or false"
    elif field.type == FieldDescriptor.TYPE_BYTES:
        what = "base64-encoded bytes"
    elif field.cpp_type == FieldDescriptor.CPPTYPE_STRING:
        what = "a string"
    return f"expected {what} ({detail})" if what else detail


def clean_parse_error(error: json_format.ParseError) -> str:
    """json_format's innermost message without its prefixes and proto paths."""
    innermost: BaseException = error
    while isinstance(innermost.__cause__, json_format.ParseError):
        innermost = innermost.__cause__
    text = str(innermost).split("\n")[0].strip()
    while (match := _FAILED_FIELD.match(text)) is not None:
        text = text[match.end() :]
    unknown = _UNKNOWN_FIELD.search(text)
    if unknown is not None:
        return f'unknown field "{unknown.group("name")}"'
    at_path = _AT_PATH.search(text)
    if at_path is not None:
        text = text[: at_path.start()]
    return text.strip().rstrip(".") or "invalid value"


def _merge_query(
    binding: HttpBinding,
    request: Message,
    path_params: Mapping[str, str],
    query: Sequence[tuple[str, str]],
    violations: list[tuple[str, str]],
) -> None:
    grouped: dict[str, tuple[str, list[str]]] = {}
    for key, value in query:
        resolved = resolve_field_path(binding.method.input_type, key)
        if isinstance(resolved, str):
            violations.append((key, resolved))
            continue
        proto_path = ".".join(f.name for f in resolved)
        if proto_path in path_params or any(
            proto_path.startswith(bound + ".") for bound in path_params
        ):
            violations.append((key, "already set by the URL path"))
            continue
        if binding.body and resolved[0].name == binding.body:
            violations.append((key, "carried in the request body"))
            continue
        _, values = grouped.setdefault(proto_path, (key, []))
        values.append(value)
    for proto_path, (key, values) in grouped.items():
        _merge_text_field(request, binding.method.input_type, proto_path, values, key, violations)


def resolve_field_path(descriptor: Descriptor, dotted: str) -> list[FieldDescriptor] | str:
    """Fields along a dotted query-parameter name, or why it is not usable."""
    fields: list[FieldDescriptor] = []
    message: Descriptor | None = descriptor
    parts = dotted.split(".")
    for index, part in enumerate(parts):
        if message is None:
            return "not a field of the request"
        field = _field_by_any_name(message, part)
        if field is None:
            return "unknown field"
        fields.append(field)
        last = index == len(parts) - 1
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            return "map fields cannot be set from query parameters"
        if not last:
            if field.message_type is None or _is_repeated(field):
                return "not a field of the request"
            message = field.message_type
            continue
        if field.message_type is not None and field.message_type.full_name not in (
            _STRING_WELL_KNOWN | {_BOOL_WELL_KNOWN}
        ):
            return "message fields cannot be set from query parameters; name a leaf field"
    return fields


def _field_by_any_name(descriptor: Descriptor, name: str) -> FieldDescriptor | None:
    field = descriptor.fields_by_name.get(name)
    if field is not None:
        return field
    for candidate in descriptor.fields:
        if candidate.json_name == name:
            return candidate
    return None


def _is_plain_string(field: FieldDescriptor) -> bool:
    return field.type == FieldDescriptor.TYPE_STRING and not field.is_repeated


def _is_repeated(field: FieldDescriptor) -> bool:
    return bool(field.is_repeated)


def _merge_text_field(
    request: Message,
    descriptor: Descriptor,
    dotted: str,
    values: list[str],
    reported_name: str,
    violations: list[tuple[str, str]],
) -> None:
    """Set one field (path variable or query parameter) from its text form(s)."""
    resolved = resolve_field_path(descriptor, dotted)
    if isinstance(resolved, str):
        violations.append((reported_name, resolved))
        return
    leaf = resolved[-1]
    if len(resolved) == 1 and len(values) == 1 and values[0] and _is_plain_string(leaf):
        # A string field of the request itself (most path variables: an id): set as
        # json_format would set it, without its parser (a few percent of a request).
        setattr(request, leaf.name, values[0])
        return
    try:
        converted = [_text_to_json(leaf, value) for value in values]
    except ValueError as error:
        violations.append((reported_name, str(error)))
        return
    if _is_repeated(leaf):
        leaf_value: Any = converted
    elif len(converted) > 1:
        violations.append((reported_name, "given more than once for a single-valued field"))
        return
    else:
        leaf_value = converted[0]
    document: dict[str, Any] = {}
    cursor = document
    for field in resolved[:-1]:
        cursor = cursor.setdefault(field.name, {})
    cursor[leaf.name] = leaf_value
    partial = type(request)()
    try:
        json_format.ParseDict(document, partial)
    except json_format.ParseError as error:
        violations.append((reported_name, expected_value(leaf, error)))
        return
    except Exception as error:
        violations.append((reported_name, str(error)))
        return
    request.MergeFrom(partial)


def _text_to_json(field: FieldDescriptor, text: str) -> Any:
    """A query/path string as the JSON value json_format expects for the field."""
    is_bool = field.type == FieldDescriptor.TYPE_BOOL or (
        field.message_type is not None and field.message_type.full_name == _BOOL_WELL_KNOWN
    )
    if is_bool:
        lowered = text.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError(f'expected true or false, got "{text}"')
    if field.enum_type is not None:
        return enum_name_from_text(field.enum_type, text)
    return text


def enum_name_from_text(enum: EnumDescriptor, text: str) -> str:
    """An enum value name from URL text, also accepting the short form.

    ``PROVIDER_SERVICE_OPENAI``, ``openai`` and ``1`` all name the same value
    of an enum whose zero value is ``PROVIDER_SERVICE_UNSPECIFIED``.
    """
    names = enum.values_by_name
    if text in names or text.lstrip("-").isdigit():
        return text
    candidate = text.strip().upper().replace("-", "_")
    if candidate in names:
        return candidate
    zero = enum.values_by_number.get(0)
    if zero is not None and zero.name.endswith("_UNSPECIFIED"):
        prefixed = zero.name[: -len("UNSPECIFIED")] + candidate
        if prefixed in names:
            return prefixed
    return text
