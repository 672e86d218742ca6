"""The contract's comments, by the full name of what they describe.

The generated modules carry descriptors without comments; scripts/gen_protos.py
also writes tripsage/contract.binpb, the same descriptors with their source info.
Whatever documents the contract from code (the assistant's tool schemas) reads
the comments here, so they are written once, in the .proto files.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from google.protobuf import descriptor_pb2

CONTRACT_DOCS = Path(__file__).resolve().parent.parent / "tripsage" / "contract.binpb"

# SourceCodeInfo paths: field numbers of FileDescriptorProto / DescriptorProto.
_MESSAGE_TYPE, _NESTED_TYPE, _FIELD, _SERVICE, _METHOD = 4, 3, 2, 6, 2


def _messages(
    found: dict[str, str],
    by_path: dict[tuple[int, ...], str],
    protos: list[descriptor_pb2.DescriptorProto],
    scope: str,
    path: tuple[int, ...],
) -> None:
    for index, message in enumerate(protos):
        name = f"{scope}.{message.name}"
        here = (*path, index)
        found[name] = by_path.get(here, "")
        for number, field in enumerate(message.field):
            found[f"{name}.{field.name}"] = by_path.get((*here, _FIELD, number), "")
        _messages(found, by_path, list(message.nested_type), name, (*here, _NESTED_TYPE))


@cache
def _comments() -> dict[str, str]:
    files = descriptor_pb2.FileDescriptorSet.FromString(CONTRACT_DOCS.read_bytes())
    found: dict[str, str] = {}
    for file in files.file:
        by_path = {
            tuple(location.path): location.leading_comments
            for location in file.source_code_info.location
            if location.leading_comments
        }
        _messages(found, by_path, list(file.message_type), file.package, (_MESSAGE_TYPE,))
        for index, service in enumerate(file.service):
            name = f"{file.package}.{service.name}"
            found[name] = by_path.get((_SERVICE, index), "")
            for number, method in enumerate(service.method):
                found[f"{name}.{method.name}"] = by_path.get((_SERVICE, index, _METHOD, number), "")
    return {name: _one_line(text) for name, text in found.items()}


def _one_line(text: str) -> str:
    """The comment on one line, without buf's lint directives (``buf:lint:ignore …``)."""
    kept = [line for line in text.splitlines() if not line.strip().startswith("buf:lint:")]
    return " ".join(" ".join(kept).split())


def comment(full_name: str) -> str:
    """The leading comment of a message, field ("pkg.Message.field"), service or method,
    on one line; empty when it has none or is not ours."""
    return _comments().get(full_name, "")
