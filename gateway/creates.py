"""Creates as HTTP has them: 201 Created with a ``Location`` for a new resource, 200 for
an Idempotency-Key retry that returned the first attempt's resource.

A create is an AIP-133 standard method: an RPC named ``Create…`` bound to ``POST`` on a
collection (no custom verb). The service says it replayed a create in the trailing
metadata ``idempotent-replayed: true`` (tripsage_core.idempotency, set for every
service by grpc_kit's ServerKit).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from google.protobuf.message import Message

from gateway.routes import HttpBinding, RouteMatch, RouteTable
from tripsage_core.idempotent_replay import REPLAYED_METADATA_KEY


def is_create(binding: HttpBinding) -> bool:
    return (
        binding.http_method == "POST"
        and binding.template.verb is None
        and binding.method.name.startswith("Create")
    )


def replayed(trailing_metadata: Iterable[Any] | None) -> bool:
    """Whether the service answered with an earlier attempt's result."""
    return any(
        key == REPLAYED_METADATA_KEY and value in ("true", b"true")
        for key, value in trailing_metadata or ()
    )


def created_id(reply: Message) -> str:
    """The id of the resource a create returns: the reply's one message field with an
    ``id`` (``CreateTripResponse.trip``), or the reply's own ``id``."""
    if "id" in reply.DESCRIPTOR.fields_by_name:
        return str(getattr(reply, "id"))  # noqa: B009  # any message type
    for field in reply.DESCRIPTOR.fields:
        sub = field.message_type
        if sub is not None and not field.is_repeated and "id" in sub.fields_by_name:
            return str(getattr(reply, field.name).id)
    return ""


def location(table: RouteTable, collection_path: str, reply: Message) -> str | None:
    """The new resource's REST path (the collection's path and the id), when the API
    has a GET for it; None otherwise."""
    resource_id = created_id(reply)
    if not resource_id:
        return None
    path = collection_path.rstrip("/") + "/" + quote(resource_id, safe="")
    found = table.match("GET", path)
    return path if isinstance(found, RouteMatch) else None
