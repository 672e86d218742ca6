"""The request walk reaches maps too (no TripSage message has one yet; one will)."""

from __future__ import annotations

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from tripsage_core.grpc_kit.request_checks import request_problems

_LABEL = descriptor_pb2.FieldDescriptorProto


def _message_with_maps() -> type:
    pool = descriptor_pool.DescriptorPool()
    file = descriptor_pb2.FileDescriptorProto(name="maps.proto", package="t", syntax="proto3")
    holder = file.message_type.add(name="Holder")
    for name, number, value_type in (
        ("labels", 1, _LABEL.TYPE_STRING),
        ("scores", 2, _LABEL.TYPE_DOUBLE),
    ):
        entry = holder.nested_type.add(name=f"{name.title()}Entry")
        entry.options.map_entry = True
        entry.field.add(name="key", number=1, type=_LABEL.TYPE_STRING, label=_LABEL.LABEL_OPTIONAL)
        entry.field.add(name="value", number=2, type=value_type, label=_LABEL.LABEL_OPTIONAL)
        holder.field.add(
            name=name, number=number, type=_LABEL.TYPE_MESSAGE, label=_LABEL.LABEL_REPEATED,
            type_name=f".t.Holder.{name.title()}Entry",
        )  # fmt: skip
    pool.Add(file)
    cls: type = message_factory.GetMessageClass(pool.FindMessageTypeByName("t.Holder"))
    return cls


def test_map_keys_and_values_are_checked_by_path() -> None:
    holder = _message_with_maps()()
    holder.labels["pace"] = "slow\x00"
    holder.labels["odd key"] = "ok"
    holder.labels["bad\x00key"] = "ok"
    holder.scores["fine"] = 1.5
    holder.scores["x y"] = float("nan")
    found = {v.field: v.description for v in request_problems(holder).violations}
    assert found == {
        "labels.pace": "must not contain the NUL character (U+0000)",
        "labels": "keys must not contain the NUL character (U+0000)",
        'scores["x y"]': "must be a finite number",
    }
