"""Messages from domain records: the one field copier every convert module uses.

A converter used to write out `name=record.name` for every field the message and the
record share. `message_from` copies those (the scalars and lists of scalars named the
same on both sides, and the times), so a converter writes out only what needs
converting: enums, nested messages and renamed fields.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from tripsage_core.grpc_kit.timestamps import to_timestamp

# Values that mean the same in Python and in the message; enums and messages need a
# conversion, so a converter always gives those itself.
_COPIED = frozenset(
    {
        FieldDescriptor.TYPE_STRING,
        FieldDescriptor.TYPE_BOOL,
        FieldDescriptor.TYPE_DOUBLE,
        FieldDescriptor.TYPE_FLOAT,
        FieldDescriptor.TYPE_INT32,
        FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_UINT32,
        FieldDescriptor.TYPE_UINT64,
        FieldDescriptor.TYPE_SINT32,
        FieldDescriptor.TYPE_SINT64,
    }
)

# The contract names times as AIP does (create_time), the records as their columns
# (created_at); a time named alike on both sides (start_time) needs no entry.
_TIME_SOURCES = {
    "create_time": "created_at",
    "update_time": "updated_at",
    "expire_time": "expires_at",
    "revoke_time": "revoked_at",
    "last_use_time": "last_used_at",
    "last_validate_time": "last_validated_at",
}


def _time_source(field: Any, source: object) -> str | None:
    if field.message_type is None or field.message_type.full_name != Timestamp.DESCRIPTOR.full_name:
        return None
    for name in (field.name, _TIME_SOURCES.get(field.name)):
        if name is not None and hasattr(source, name):
            return name
    return None


def copied_fields(
    cls: type[Message], source: object, given: frozenset[str] = frozenset()
) -> dict[str, str]:
    """{message field: attribute of `source`} that `message_from` copies into a `cls`."""
    found: dict[str, str] = {}
    for field in cls.DESCRIPTOR.fields:
        if field.name in given:
            continue
        if field.type in _COPIED and hasattr(source, field.name):
            found[field.name] = field.name
        elif (time := _time_source(field, source)) is not None:
            found[field.name] = time
    return found


# (message class, dataclass, given fields) -> copied_fields: a dataclass's attributes are
# the same for every instance (unless a field is left out of __init__ without a default),
# and working them out was a third of a trip's conversion.
_PLANS: dict[tuple[type[Message], type, frozenset[str]], dict[str, str]] = {}


def _plan(cls: type[Message], source: object, given: frozenset[str]) -> dict[str, str]:
    key = (cls, type(source), given)
    plan = _PLANS.get(key)
    if plan is None:
        plan = copied_fields(cls, source, given)
        if _same_for_every_instance(type(source)):
            _PLANS[key] = plan
    return plan


def _same_for_every_instance(kind: type) -> bool:
    return dataclasses.is_dataclass(kind) and all(
        f.init
        or f.default is not dataclasses.MISSING
        or f.default_factory is not dataclasses.MISSING
        for f in dataclasses.fields(kind)
    )


def message_from[M: Message](cls: type[M], source: object, **given: Any) -> M:
    """A `cls` with each scalar field (or list of scalars) that `source` has an attribute
    of the same name for copied from it, each time from its datetime (`_TIME_SOURCES`),
    and `given` for the rest. None leaves a field unset."""
    copied: dict[str, Any] = {}
    for name, attribute in _plan(cls, source, frozenset(given)).items():
        value = getattr(source, attribute)
        copied[name] = to_timestamp(value) if isinstance(value, datetime) else value
    return cls(**copied, **given)
