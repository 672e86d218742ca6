"""What every request must satisfy before any servicer sees it, whatever the RPC.

The protobuf wire format carries values that the rest of the system cannot: a
U+0000 in a string (PostgreSQL text and jsonb refuse it), an enum number the
descriptor does not name (proto3 enums are open, so 999 arrives intact), an
infinite or NaN double, a Timestamp outside 0001..9999. One walk over the
request message, including maps, repeated fields and google.protobuf.Struct
values, finds each such value and names its field path
(``trip.preferences.pace``, ``trip.tags[2]``) for the caller.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from tripsage_core.errors import FieldErrors

# Timestamp's documented range: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999999999Z.
_MIN_SECONDS = -62_135_596_800
_MAX_SECONDS = 253_402_300_799
_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
NUL = "\x00"
NUL_PROBLEM = "must not contain the NUL character (U+0000)"

_STRUCT = "google.protobuf.Struct"
_VALUE = "google.protobuf.Value"
_LIST_VALUE = "google.protobuf.ListValue"
_TIMESTAMP = "google.protobuf.Timestamp"
_FLOATS = (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT)


def request_problems(message: Message) -> FieldErrors:
    """Every value of `message` no service can take, by field path."""
    errors = FieldErrors()
    _check_message(message, "", errors)
    return errors


def check_request(message: Message) -> None:
    """Raises InvalidArgument naming every field that holds such a value."""
    request_problems(message).raise_if_any()


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _keyed(prefix: str, key: object) -> str:
    """A map entry's path: `prefs.pace`, or `prefs["odd key"]` when the key is not plain."""
    text = str(key)
    if _PLAIN_KEY.match(text):
        return _join(prefix, text)
    return f"{prefix}[{json.dumps(text[:64])}]"


def _check_message(message: Message, path: str, errors: FieldErrors) -> None:
    name = message.DESCRIPTOR.full_name
    if name == _STRUCT:
        _check_struct(message, path, errors)
        return
    if name == _VALUE:
        _check_value(message, path, errors)
        return
    if name == _LIST_VALUE:
        for index, item in enumerate(message.values):  # type: ignore[attr-defined]
            _check_value(item, f"{path}[{index}]", errors)
        return
    if name == _TIMESTAMP:
        _check_timestamp(message, path, errors)
        return
    for field, value in message.ListFields():
        field_path = _join(path, field.name)
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            value_field = field.message_type.fields_by_name["value"]
            for key, item in value.items():
                if isinstance(key, str) and NUL in key:
                    errors.add(field_path, f"keys {NUL_PROBLEM}")
                    continue
                _check_single(value_field, item, _keyed(field_path, key), errors)
        elif field.is_repeated:
            for index, item in enumerate(value):
                _check_single(field, item, f"{field_path}[{index}]", errors)
        else:
            _check_single(field, value, field_path, errors)


def _check_single(field: FieldDescriptor, value: Any, path: str, errors: FieldErrors) -> None:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        _check_message(value, path, errors)
    elif field.type == FieldDescriptor.TYPE_STRING:
        if NUL in value:
            errors.add(path, NUL_PROBLEM)
    elif field.enum_type is not None:
        if value not in field.enum_type.values_by_number:
            errors.add(path, f"{value} is not a {field.enum_type.name} value")
    elif field.type in _FLOATS and not math.isfinite(value):
        errors.add(path, "must be a finite number")


def _check_struct(struct: Message, path: str, errors: FieldErrors) -> None:
    for key, item in struct.fields.items():  # type: ignore[attr-defined]
        if NUL in key:
            errors.add(path, f"keys {NUL_PROBLEM}")
            continue
        _check_value(item, _keyed(path, key), errors)


def _check_value(value: Message, path: str, errors: FieldErrors) -> None:
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        if NUL in value.string_value:  # type: ignore[attr-defined]
            errors.add(path, NUL_PROBLEM)
    elif kind == "number_value":
        if not math.isfinite(value.number_value):  # type: ignore[attr-defined]
            errors.add(path, "must be a finite number")
    elif kind == "struct_value":
        _check_struct(value.struct_value, path, errors)  # type: ignore[attr-defined]
    elif kind == "list_value":
        for index, item in enumerate(value.list_value.values):  # type: ignore[attr-defined]
            _check_value(item, f"{path}[{index}]", errors)


def _check_timestamp(stamp: Message, path: str, errors: FieldErrors) -> None:
    seconds, nanos = stamp.seconds, stamp.nanos  # type: ignore[attr-defined]
    if not _MIN_SECONDS <= seconds <= _MAX_SECONDS or not 0 <= nanos <= 999_999_999:
        errors.add(path, "must be an instant between the years 0001 and 9999")
