"""gateway.render gives what json_format gives, byte for byte, for every reply type.

Messages are generated from the descriptors: every field kind (scalars of each
width, bytes, enums with unknown numbers, maps with every key kind, oneofs,
proto3 optional, wrappers, Timestamp, Duration, FieldMask, Struct/Value, Any,
NaN and infinities, recursion) set to nothing, its default or random values.
The every-kind messages are built in a descriptor pool of their own here, so
no test proto is generated or committed for them.
"""

from __future__ import annotations

import json
import math
import random
from typing import Any

import pytest
from google.protobuf import (
    any_pb2,
    descriptor_pb2,
    descriptor_pool,
    duration_pb2,
    json_format,
    message_factory,
    struct_pb2,
    timestamp_pb2,
    wrappers_pb2,
)
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from gateway.discovery import discover_services
from gateway.render import JsonFloat, json_bytes, message_to_json, renderer_for

_F = FieldDescriptor
_FDP = descriptor_pb2.FieldDescriptorProto
_FLOATS = [
    0.0,
    -0.0,
    0.1,
    1.5,
    -2.25,
    1e16,
    1e-7,
    3.4e38,
    123456.789,
    math.nan,
    math.inf,
    -math.inf,
]
_TEXTS = ["", "a", "Lisbon", 'quote " and \\ back', "naïve café ☕", "line\nbreak\t\x01", "日本"]


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _both(message: Message) -> tuple[str, str]:
    """(json_format's rendering or error, ours), as the gateway would write them.

    Where json_format renders, ours must too without falling back to it (the
    renderer itself is called); where it refuses, message_to_json must refuse alike.
    """
    try:
        expected = _dumps(
            json_format.MessageToDict(message, always_print_fields_with_no_presence=True)
        )
    except Exception as error:
        expected = f"error {type(error).__name__}: {error}"
        try:
            return expected, _dumps(message_to_json(message))
        except Exception as ours:
            return expected, f"error {type(ours).__name__}: {ours}"
    return expected, _dumps(renderer_for(message.DESCRIPTOR)(message))


# -- generated values ------------------------------------------------------------------


def _scalar(field: FieldDescriptor, rng: random.Random) -> Any:
    cpp = field.cpp_type
    if cpp == _F.CPPTYPE_ENUM:
        numbers = [value.number for value in field.enum_type.values]
        if not field.enum_type.is_closed and rng.random() < 0.2:
            return rng.choice([99, -3, 12345])  # unknown numbers, kept by open enums
        return rng.choice(numbers)
    if cpp == _F.CPPTYPE_STRING:
        if field.type == _F.TYPE_BYTES:
            return bytes(rng.randrange(256) for _ in range(rng.randrange(6)))
        return rng.choice(_TEXTS)
    if cpp == _F.CPPTYPE_BOOL:
        return rng.random() < 0.5
    if cpp == _F.CPPTYPE_INT32:
        return rng.choice([0, 1, -1, 2**31 - 1, -(2**31), rng.randrange(-1000, 1000)])
    if cpp == _F.CPPTYPE_UINT32:
        return rng.choice([0, 1, 2**32 - 1, rng.randrange(1000)])
    if cpp == _F.CPPTYPE_INT64:
        return rng.choice([0, -1, 2**63 - 1, -(2**63), 2**53 + 1, rng.randrange(-1000, 1000)])
    if cpp == _F.CPPTYPE_UINT64:
        return rng.choice([0, 2**64 - 1, 2**53 + 1, rng.randrange(1000)])
    return rng.choice(_FLOATS)


def _json_value(rng: random.Random, depth: int) -> Any:
    kinds = ["null", "bool", "number", "string"] + (["list", "struct"] if depth < 3 else [])
    kind = rng.choice(kinds)
    if kind == "null":
        return None
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "number":
        return rng.choice([0, 1, -2.5, 1e16, 0.1, 42])
    if kind == "string":
        return rng.choice(_TEXTS)
    if kind == "list":
        return [_json_value(rng, depth + 1) for _ in range(rng.randrange(3))]
    return {rng.choice(_TEXTS): _json_value(rng, depth + 1) for _ in range(rng.randrange(3))}


def fill(message: Message, rng: random.Random, depth: int = 0, deepest: int = 4) -> Message:
    """Set each field of ``message`` to nothing, its default or generated values;
    messages nest at most ``deepest`` levels."""
    descriptor = message.DESCRIPTOR
    name = descriptor.full_name
    if name == "google.protobuf.Timestamp":
        message.FromSeconds(rng.choice([0, 1_800_000_000, 1_800_000_000]))  # type: ignore[attr-defined]
        message.nanos = rng.choice([0, 5_000_000, 123_456_789])  # type: ignore[attr-defined]
        return message
    if name == "google.protobuf.Duration":
        message.seconds = rng.choice([0, 90, -5])  # type: ignore[attr-defined]
        message.nanos = rng.choice([0, 500_000_000]) * (-1 if message.seconds < 0 else 1)  # type: ignore[attr-defined]
        return message
    if name == "google.protobuf.FieldMask":
        message.paths.extend(rng.sample(["title", "start_date", "budget.units"], 2))  # type: ignore[attr-defined]
        return message
    if name == "google.protobuf.Struct":
        message.update(  # type: ignore[attr-defined]
            {f"k{i}": _json_value(rng, 1) for i in range(rng.randrange(4))}
        )
        return message
    if name == "google.protobuf.Value":
        struct = struct_pb2.Struct()
        struct.update({"v": _json_value(rng, 0)})
        message.MergeFromString(struct.fields["v"].SerializeToString())  # any pool's Value
        return message
    if name == "google.protobuf.ListValue":
        message.extend([_json_value(rng, 1) for _ in range(rng.randrange(3))])  # type: ignore[attr-defined]
        return message
    if name == "google.protobuf.Any":
        packed = any_pb2.Any()
        packed.Pack(timestamp_pb2.Timestamp(seconds=1_800_000_000))
        message.MergeFromString(packed.SerializeToString())
        return message
    for field in descriptor.fields:
        if field.containing_oneof is not None and message.WhichOneof(field.containing_oneof.name):
            continue  # a member is set already
        roll = rng.random()
        if roll < 0.25 or (field.message_type is not None and depth >= deepest):
            continue  # unset
        _set(message, field, rng, depth, deepest, default=roll < 0.4)
    return message


def _set(
    message: Message,
    field: FieldDescriptor,
    rng: random.Random,
    depth: int,
    deepest: int,
    *,
    default: bool,
) -> None:
    sub = field.message_type
    if sub is not None and sub.GetOptions().map_entry:
        target = getattr(message, field.name)
        key_field, value_field = sub.fields_by_name["key"], sub.fields_by_name["value"]
        for _ in range(0 if default else rng.randrange(1, 4)):
            key = _scalar(key_field, rng)
            if value_field.message_type is not None:
                fill(target[key], rng, depth + 1, deepest)
            else:
                target[key] = _scalar(value_field, rng)
        return
    if field.is_repeated:
        target = getattr(message, field.name)
        for _ in range(0 if default else rng.randrange(1, 4)):
            if sub is not None:
                fill(target.add(), rng, depth + 1, deepest)
            else:
                target.append(_scalar(field, rng))
        return
    if sub is not None:
        child = getattr(message, field.name)
        if default:
            child.SetInParent()
        else:
            fill(child, rng, depth + 1, deepest)
        return
    setattr(message, field.name, field.default_value if default else _scalar(field, rng))


# -- an every-kind message, in a pool of its own ---------------------------------------


def _every_kind_pool() -> descriptor_pool.DescriptorPool:
    pool = descriptor_pool.DescriptorPool()
    for module in (timestamp_pb2, duration_pb2, struct_pb2, wrappers_pb2, any_pb2):
        proto = descriptor_pb2.FileDescriptorProto()
        module.DESCRIPTOR.CopyToProto(proto)
        pool.Add(proto)
    from google.protobuf import field_mask_pb2

    proto = descriptor_pb2.FileDescriptorProto()
    field_mask_pb2.DESCRIPTOR.CopyToProto(proto)
    pool.Add(proto)

    scalars = {
        "f_double": _FDP.TYPE_DOUBLE,
        "f_float": _FDP.TYPE_FLOAT,
        "f_int64": _FDP.TYPE_INT64,
        "f_uint64": _FDP.TYPE_UINT64,
        "f_int32": _FDP.TYPE_INT32,
        "f_fixed64": _FDP.TYPE_FIXED64,
        "f_fixed32": _FDP.TYPE_FIXED32,
        "f_bool": _FDP.TYPE_BOOL,
        "f_string": _FDP.TYPE_STRING,
        "f_bytes": _FDP.TYPE_BYTES,
        "f_uint32": _FDP.TYPE_UINT32,
        "f_sfixed32": _FDP.TYPE_SFIXED32,
        "f_sfixed64": _FDP.TYPE_SFIXED64,
        "f_sint32": _FDP.TYPE_SINT32,
        "f_sint64": _FDP.TYPE_SINT64,
    }
    well_known = {
        "f_timestamp": ".google.protobuf.Timestamp",
        "f_duration": ".google.protobuf.Duration",
        "f_field_mask": ".google.protobuf.FieldMask",
        "f_struct": ".google.protobuf.Struct",
        "f_value": ".google.protobuf.Value",
        "f_list_value": ".google.protobuf.ListValue",
        "f_any": ".google.protobuf.Any",
        "f_string_value": ".google.protobuf.StringValue",
        "f_bytes_value": ".google.protobuf.BytesValue",
        "f_int64_value": ".google.protobuf.Int64Value",
        "f_uint64_value": ".google.protobuf.UInt64Value",
        "f_int32_value": ".google.protobuf.Int32Value",
        "f_uint32_value": ".google.protobuf.UInt32Value",
        "f_double_value": ".google.protobuf.DoubleValue",
        "f_float_value": ".google.protobuf.FloatValue",
        "f_bool_value": ".google.protobuf.BoolValue",
        "self": ".rendertest.Every",
    }
    file = descriptor_pb2.FileDescriptorProto(
        name="rendertest/every.proto",
        package="rendertest",
        syntax="proto3",
        dependency=[
            "google/protobuf/timestamp.proto",
            "google/protobuf/duration.proto",
            "google/protobuf/field_mask.proto",
            "google/protobuf/struct.proto",
            "google/protobuf/any.proto",
            "google/protobuf/wrappers.proto",
        ],
    )
    enum = file.enum_type.add(name="Color")
    for number, name in enumerate(["COLOR_UNSPECIFIED", "COLOR_RED", "COLOR_GREEN"]):
        enum.value.add(name=name, number=number)
    every = file.message_type.add(name="Every")
    number = 0

    def add(name: str, kind: int, label: int = _FDP.LABEL_OPTIONAL, **extra: Any) -> Any:
        nonlocal number
        number += 1
        return every.field.add(name=name, number=number, type=kind, label=label, **extra)

    every.oneof_decl.add(name="choice")  # real oneofs before proto3 optional's synthetic ones
    choice = 0
    for name, kind in scalars.items():
        add(name, kind)
        add(f"r{name}", kind, _FDP.LABEL_REPEATED)
        add(f"o{name}", kind, proto3_optional=True, oneof_index=len(every.oneof_decl))
        every.oneof_decl.add(name=f"_o{name}")
    add("f_color", _FDP.TYPE_ENUM, type_name=".rendertest.Color")
    add("r_color", _FDP.TYPE_ENUM, _FDP.LABEL_REPEATED, type_name=".rendertest.Color")
    for name, type_name in well_known.items():
        add(name, _FDP.TYPE_MESSAGE, type_name=type_name)
        add(f"r_{name}", _FDP.TYPE_MESSAGE, _FDP.LABEL_REPEATED, type_name=type_name)
    add("c_text", _FDP.TYPE_STRING, oneof_index=choice)
    add("c_number", _FDP.TYPE_INT64, oneof_index=choice)
    add("c_every", _FDP.TYPE_MESSAGE, oneof_index=choice, type_name=".rendertest.Every")
    map_keys = {
        "string": _FDP.TYPE_STRING,
        "int32": _FDP.TYPE_INT32,
        "int64": _FDP.TYPE_INT64,
        "uint64": _FDP.TYPE_UINT64,
        "bool": _FDP.TYPE_BOOL,
    }
    map_values: dict[str, tuple[int, str]] = {
        "string": (_FDP.TYPE_STRING, ""),
        "double": (_FDP.TYPE_DOUBLE, ""),
        "color": (_FDP.TYPE_ENUM, ".rendertest.Color"),
        "every": (_FDP.TYPE_MESSAGE, ".rendertest.Every"),
        "value": (_FDP.TYPE_MESSAGE, ".google.protobuf.Value"),
        "bytes": (_FDP.TYPE_BYTES, ""),
    }
    for key_name, key_kind in map_keys.items():
        for value_name, (value_kind, value_type) in map_values.items():
            entry_name = f"M{key_name.title()}{value_name.title()}Entry"
            entry = every.nested_type.add(name=entry_name)
            entry.options.map_entry = True
            entry.field.add(name="key", number=1, type=key_kind, label=_FDP.LABEL_OPTIONAL)
            value = entry.field.add(name="value", number=2, type=value_kind)
            value.label = _FDP.LABEL_OPTIONAL
            if value_type:
                value.type_name = value_type
            add(
                f"m_{key_name}_{value_name}",
                _FDP.TYPE_MESSAGE,
                _FDP.LABEL_REPEATED,
                type_name=f".rendertest.Every.{entry_name}",
            )
    pool.Add(file)
    return pool


def _every_kind() -> Descriptor:
    return _every_kind_pool().FindMessageTypeByName("rendertest.Every")


def _reply_types() -> list[Descriptor]:
    found: dict[str, Descriptor] = {}
    for service in discover_services():
        for method in service.methods:
            found.setdefault(method.output_type.full_name, method.output_type)
    return list(found.values())


# -- the tests -------------------------------------------------------------------------


def test_every_service_has_reply_types_to_compare() -> None:
    assert len(_reply_types()) > 20


@pytest.mark.parametrize("descriptor", _reply_types(), ids=lambda d: d.full_name)
def test_every_reply_type_renders_as_json_format_does(descriptor: Descriptor) -> None:
    cls = message_factory.GetMessageClass(descriptor)
    cases = [cls()] + [fill(cls(), random.Random(seed)) for seed in range(40)]
    for message in cases:
        expected, ours = _both(message)
        assert ours == expected, message


def test_every_field_kind_renders_as_json_format_does() -> None:
    cls = message_factory.GetMessageClass(_every_kind())
    for seed in range(80):
        message = fill(cls(), random.Random(seed), deepest=1 + seed % 2)
        expected, ours = _both(message)
        assert ours == expected, f"seed {seed}"


def test_what_json_format_refuses_is_refused_alike() -> None:
    cls = message_factory.GetMessageClass(_every_kind())
    message = cls(f_string="kept")
    message.f_value.number_value = math.nan  # a Value cannot carry NaN in JSON
    expected, ours = _both(message)
    assert expected.startswith("error SerializeToJsonError")
    assert ours == expected


def test_defaults_unknown_enums_and_special_floats() -> None:
    cls = message_factory.GetMessageClass(_every_kind())
    message = cls(f_float=math.nan, f_double=-math.inf, f_int64=2**63 - 1, rf_float=[0.1])
    message.f_color = 77  # an unknown number of an open enum stays a number
    message.of_int32 = 0  # proto3 optional: present, so printed even at its default
    message.m_bool_string[True] = "yes"
    expected, ours = _both(message)
    assert ours == expected
    rendered = json.loads(ours)
    assert rendered["fColor"] == 77
    assert rendered["fFloat"] == "NaN"
    assert rendered["fDouble"] == "-Infinity"
    assert rendered["fInt64"] == str(2**63 - 1)
    assert rendered["ofInt32"] == 0
    assert rendered["mBoolString"] == {"true": "yes"}
    assert rendered["fString"] == ""  # no presence: printed at its default
    assert rendered["rfBytes"] == []
    assert "fTimestamp" not in rendered  # presence: omitted when unset
    assert "ofString" not in rendered


def test_reply_bytes_are_the_json_modules() -> None:
    """json_bytes (orjson where it gives the same bytes) writes what json.dumps does,
    over generated replies of every type and values where the two encoders differ."""
    messages = [
        fill(message_factory.GetMessageClass(descriptor)(), random.Random(seed))
        for descriptor in [*_reply_types(), _every_kind()]
        for seed in range(5)
    ]
    documents: list[Any] = [message_to_json(message) for message in messages]
    assert all(_floats_are_marked(document) for document in documents)
    numbers = [1e-05, 0.0001, 1e16, 1e15, 123.456, -0.0, 5e-324, 1.7976931348623157e308]
    floats = [JsonFloat(number) for number in numbers]
    documents += [{"a": value} for value in floats] + [floats, {"t": "12:30.5"}]
    texts = ["".join(map(chr, range(0x80))), "é\u2028\u2029\ufeff\U0001f600", "\udc80"]
    documents += [{"s": text} for text in texts] + [{"n": 2**64}, {"n": -(2**63)}, [None, True]]
    for document in documents:
        try:
            expected: bytes | str = _dumps(document).encode()
        except UnicodeEncodeError as error:
            expected = str(error)
        try:
            ours: bytes | str = json_bytes(document)
        except UnicodeEncodeError as error:
            ours = str(error)
        assert ours == expected, document


def _floats_are_marked(document: Any) -> bool:
    """No plain float in a rendered document: orjson would spell some differently."""
    if isinstance(document, dict):
        return all(_floats_are_marked(value) for value in document.values())
    if isinstance(document, list):
        return all(_floats_are_marked(value) for value in document)
    return type(document) is not float


def test_floats_json_format_renders_are_marked_too() -> None:
    """What json_format renders (an Any; a message it must decide) has JsonFloat too."""
    value = struct_pb2.Value(number_value=1e-05)
    packed = any_pb2.Any()
    packed.Pack(value)
    assert json_bytes(message_to_json(packed)) == _dumps(message_to_json(packed)).encode()
    rendered = message_to_json(packed)
    assert type(rendered["value"]) is JsonFloat
    assert json_bytes(rendered).endswith(b'"value":1e-05}')
